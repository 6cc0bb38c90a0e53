# TIM N_F trained on M3FD pairs (the release's Ir/, Vis/: set data_prefix)
# Guide: docs/methods/tim.md
_base_ = './fusion_ivif_tno.py'

data_root = 'data/M3FD/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
