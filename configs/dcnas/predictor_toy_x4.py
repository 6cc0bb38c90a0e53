# DCNAS x4 on toy: score random paths with supernet weights and train the BGRU ranking predictor
# (python tools/search/train_predictor.py CONFIG).
_base_ = ['./supernet_toy_x4.py']
# path labels: mean loss on the 32 images of the toy search_val split (the
# 4-image val split gave labels too noisy to rank paths: docs/methods/dcnas.md)
val_dataloader = {{_base_.search_val_dataloader}}
load_from = 'work_dirs/dcnas_toy_x4/iter_300.pth'
predictor = dict(
    num_paths=48,
    batches=32,
    loss='ranknet',
    # standardised labels (the official code trains on the raw supernet
    # losses, where RankNet's target is ~1/2 for every pair; the two
    # compared: docs/methods/dcnas_benchmarks.md)
    label_norm='standardize',
    epochs=60,
    batch_size=16,
    lr=1e-3,
    val_fraction=0.2,
    seed=42,
    out_dir='work_dirs/dcnas_toy_x4/predictor')
work_dir = 'work_dirs/dcnas_toy_x4/predictor'
