# TIM fusion network N_F trained on M3FD infrared-visible pairs.
# Data: data/M3FD/{ir,vi}/<stem>.<ext> (the M3FD release names the folders
# Ir/ and Vis/: rename them, or set data_prefix=dict(_delete_=True,
# ir='Ir', vi='Vis') in the three dataloaders). Network, losses and
# schedule: configs/tim/fusion_ivif_tno.py.
#   python tools/train.py configs/tim/fusion_ivif_m3fd.py
_base_ = './fusion_ivif_tno.py'

data_root = 'data/M3FD/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
