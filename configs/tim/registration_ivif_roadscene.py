# N_R (registration_ivif_tno.py) trained on RoadScene pairs (IR 1-channel,
# VIS colour: registered through its luminance).
#   python tools/train.py configs/tim/registration_ivif_roadscene.py
_base_ = './registration_ivif_tno.py'

data_root = 'data/RoadScene/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
