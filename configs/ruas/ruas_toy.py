# Toy sibling of ruas_lol.py (darkened toy scenes)
#   python tools/test.py CONFIG CKPT
# Guide: docs/methods/ruas.md
_base_ = ['./ruas_lol.py']

data_root = 'data/toy_lowlight/val/'
val_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
