# DCNAS x4 on real RGB-D-D pairs: score random paths with the supernet weights
# on the 8 search-val pairs and train the BGRU ranking predictor
# (python tools/search/train_predictor.py CONFIG).
_base_ = ['./supernet_rgbdd_x4.py']
val_dataloader = {{_base_.search_val_dataloader}}
load_from = 'work_dirs/dcnas_rgbdd_x4/iter_600.pth'
predictor = dict(
    num_paths=48,
    batches=8,
    loss='ranknet',
    # standardised labels, as the toy predictor (docs/methods/dcnas.md)
    label_norm='standardize',
    epochs=60,
    batch_size=16,
    lr=1e-3,
    val_fraction=0.2,
    seed=42,
    out_dir='work_dirs/dcnas_rgbdd_x4/predictor')
work_dir = 'work_dirs/dcnas_rgbdd_x4/predictor'
