# MIT-Adobe FiveK as the official RUAS code ships it (expert-retouched GT):
#   data/MIT/test/<name>.png   low-light input
#   data/MIT/gt/<name>.png     ground truth
# Test pipeline: see lowlight_lol.py (the official RUAS conventions).
_base_ = ['./lowlight_lol.py']

data_root = 'data/MIT/'
val_dataloader = dict(
    dataset=dict(data_root=data_root, data_prefix=dict(low='test', gt='gt')))
test_dataloader = val_dataloader
