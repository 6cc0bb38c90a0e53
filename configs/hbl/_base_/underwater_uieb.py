# UIEB (Li et al., TIP 2020) for underwater enhancement (UIE):
#   data/UIEB/raw-890/<name>.png        raw underwater input
#   data/UIEB/reference-890/<name>.png  reference image
# UIEB ships no official split; give one with ann_file (one stem per line),
# e.g. --cfg-options test_dataloader.dataset.ann_file=test90.txt.
_base_ = ['./haze_sots.py']
dataset_type = 'UnderwaterDataset'
data_root = 'data/UIEB/'
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
