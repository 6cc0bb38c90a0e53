# MIT-Adobe FiveK as the official RUAS code ships it (test/, gt/)
_base_ = ['./lowlight_lol.py']

data_root = 'data/MIT/'
val_dataloader = dict(
    dataset=dict(data_root=data_root, data_prefix=dict(low='test', gt='gt')))
test_dataloader = val_dataloader
