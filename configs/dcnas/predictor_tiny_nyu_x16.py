# DCNAS-Tiny x16 on NYU v2: train the BGRU ranking predictor on path scores
#   python tools/search/train_predictor.py CONFIG
# Guide: docs/methods/dcnas.md
_base_ = ['./supernet_tiny_nyu_x16.py']
val_dataloader = {{_base_.search_val_dataloader}}
load_from = 'work_dirs/dcnas_tiny_nyu_x16/iter_7560.pth'
predictor = dict(
    num_paths=1024,
    batches=201,
    loss='ranknet',
    label_norm='standardize',
    epochs=100,
    batch_size=16,
    lr=1e-3,
    val_fraction=0.2,
    seed=42,
    out_dir='work_dirs/dcnas_tiny_nyu_x16/predictor')
work_dir = 'work_dirs/dcnas_tiny_nyu_x16/predictor'
