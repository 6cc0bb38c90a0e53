# DCNAS x4 on toy RGB-D: train the BGRU ranking predictor on path scores
#   python tools/search/train_predictor.py CONFIG
# Guide: docs/methods/dcnas.md
_base_ = ['./supernet_toy_x4.py']
# labels on the 32-image toy search_val split (the 4 val images are too noisy)
val_dataloader = {{_base_.search_val_dataloader}}
load_from = 'work_dirs/dcnas_toy_x4/iter_300.pth'
predictor = dict(
    num_paths=48,
    batches=32,
    loss='ranknet',
    label_norm='standardize',
    epochs=60,
    batch_size=16,
    lr=1e-3,
    val_fraction=0.2,
    seed=42,
    out_dir='work_dirs/dcnas_toy_x4/predictor')
work_dir = 'work_dirs/dcnas_toy_x4/predictor'
