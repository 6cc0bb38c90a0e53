# train_two_stage_ivif_tno.py on M3FD, N_F from fusion_ivif_m3fd.py
# Guide: docs/methods/tim.md
_base_ = './train_two_stage_ivif_tno.py'

model = dict(
    fusion_net=dict(stage1_init='work_dirs/fusion_ivif_m3fd/iter_10000.pth'))
data_root = 'data/M3FD/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
