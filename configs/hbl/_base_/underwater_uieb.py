# UIEB underwater enhancement (no official split: set ann_file)
# Layout: docs/methods/hbl.md ("Data")
_base_ = ['./haze_sots.py']
dataset_type = 'UnderwaterDataset'
data_root = 'data/UIEB/'
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
