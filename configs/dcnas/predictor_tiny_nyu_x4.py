# DCNAS-Tiny x4 on nyu: score random paths with supernet weights and train the BGRU ranking predictor
# (python tools/search/train_predictor.py CONFIG).
_base_ = ['./supernet_tiny_nyu_x4.py']
# path labels come from search_val.txt (a held-out tenth of the training
# ids), never from the test ids (the official code scores on its test set)
val_dataloader = {{_base_.search_val_dataloader}}
load_from = 'work_dirs/dcnas_tiny_nyu_x4/iter_7560.pth'
predictor = dict(
    num_paths=1024,
    batches=201,
    loss='ranknet',
    # standardised labels (the official code trains on the raw supernet
    # losses, where RankNet's target is ~1/2 for every pair; the two
    # compared: docs/methods/dcnas_benchmarks.md)
    label_norm='standardize',
    epochs=100,
    batch_size=16,
    lr=1e-3,
    val_fraction=0.2,
    seed=42,
    out_dir='work_dirs/dcnas_tiny_nyu_x4/predictor')
work_dir = 'work_dirs/dcnas_tiny_nyu_x4/predictor'
