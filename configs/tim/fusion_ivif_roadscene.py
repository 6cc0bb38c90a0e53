# TIM N_F trained on RoadScene pairs (colour VIS through its luminance)
# Guide: docs/methods/tim.md
_base_ = './fusion_ivif_tno.py'

data_root = 'data/RoadScene/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
