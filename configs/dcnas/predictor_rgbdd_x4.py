# DCNAS x4 on real RGB-D-D: train the BGRU ranking predictor on path scores
#   python tools/search/train_predictor.py CONFIG
# Guide: docs/methods/dcnas_real_search.md
_base_ = ['./supernet_rgbdd_x4.py']
val_dataloader = {{_base_.search_val_dataloader}}
load_from = 'work_dirs/dcnas_rgbdd_x4/iter_600.pth'
predictor = dict(
    num_paths=48,
    batches=8,
    loss='ranknet',
    label_norm='standardize',
    epochs=60,
    batch_size=16,
    lr=1e-3,
    val_fraction=0.2,
    seed=42,
    out_dir='work_dirs/dcnas_rgbdd_x4/predictor')
work_dir = 'work_dirs/dcnas_rgbdd_x4/predictor'
