# DARK FACE face detection, SSD300's 300 x 300 input
# Layout: docs/user_guides/restoration_datasets.md
_base_ = ['./exdark_det.py']

dataset_type = 'DarkFaceDataset'
data_root = 'data/DarkFace/'
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
