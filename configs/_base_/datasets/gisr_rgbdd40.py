# Real RGB-D-D pairs for a DCNAS search: the 40 shared RGB-D-D training pairs
# (../shared/data/gisr/RGBDD_subset40, 512 x 384, 16-bit depth in mm), split by
# capture day into the two halves a one-shot search needs:
#   splits/rgbdd40/search_train.txt: the 32 pairs of 2020-05-09 and 2020-05-17
#       (supernet weights);
#   splits/rgbdd40/search_val.txt: the 8 pairs of 2020-05-18 (what the predictor
#       labels and the evolution score paths on).
# A day split keeps the frames seconds apart on the same side. The searched
# network is retrained on all 40 and tested on Middlebury (the test loader
# below) and Lu, which no step of the search reads (projects/reproductions/bench_dcnas_control.py
# --mode real). x4 bicubic degradation, LR min/max normalisation, 64 x 64 HR
# training patches (the real mode's retraining patches).
data_root = '../shared/data/gisr/RGBDD_subset40'
split_dir = '{{ fileDirname }}/splits/rgbdd40/'
scale = 4
train_pipeline = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRRandomCrop', patch_size=64),
    dict(type='GISRAugment'),
    dict(type='GISRDegrade', scale=scale, norm='lr_minmax'),
    dict(type='PackGISRInputs')
]
test_pipeline = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRDegrade', scale=scale, norm='lr_minmax'),
    dict(type='PackGISRInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root,
        split_file=split_dir + 'search_train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root,
        split_file=split_dir + 'search_val.txt',
        pipeline=test_pipeline,
        test_mode=True))
# what the predictor labels and the evolution scores paths on
search_val_dataloader = val_dataloader
# the test set no step of the search reads: Middlebury (30 pairs, 8-bit depth)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        type='GISRDataset',
        data_root='../shared/data/gisr/Middlebury',
        pipeline=test_pipeline,
        test_mode=True))
# stored RGB-D-D depth is mm: the RGB-D-D preset reports cm; Middlebury is
# scored in 8-bit levels
val_evaluator = dict(type='GISRMetric', preset='rgbdd', with_bicubic=True)
test_evaluator = dict(
    type='GISRMetric', preset='middlebury', with_bicubic=True)
