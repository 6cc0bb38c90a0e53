# Toy sibling of ssd300_darkface.py: darkened toy scenes in the DARK FACE
# layout (person boxes as faces), the small SSD of ssd_exdark_toy.py.
#   python tools/misc/make_toy_lowlight_tasks.py data/toy_darkface \
#       --task darkface
#   python tools/train.py configs/ruas/ssd_darkface_toy.py
_base_ = ['./ssd_exdark_toy.py']

dataset_type = 'DarkFaceDataset'
data_root = 'data/toy_darkface/'
model = dict(detector=dict(bbox_head=dict(num_classes=1)))
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
