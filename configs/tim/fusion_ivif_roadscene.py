# TIM fusion network N_F trained on RoadScene infrared-visible pairs
# (colour VIS: fused through its luminance, chroma re-attached).
# Data: data/RoadScene/{ir,vi}/<stem>.<ext>. Network, losses and schedule:
# configs/tim/fusion_ivif_tno.py.
#   python tools/train.py configs/tim/fusion_ivif_roadscene.py
_base_ = './fusion_ivif_tno.py'

data_root = 'data/RoadScene/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
