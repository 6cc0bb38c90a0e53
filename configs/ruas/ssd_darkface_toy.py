# Toy sibling of ssd300_darkface.py (DARK FACE-layout toy scenes)
# Guide: docs/methods/ruas_search_tasks.md
_base_ = ['./ssd_exdark_toy.py']

dataset_type = 'DarkFaceDataset'
data_root = 'data/toy_darkface/'
model = dict(detector=dict(bbox_head=dict(num_classes=1)))
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
