# ACDC night (Sakaridis et al. 2021), the layout of its release:
#   data/ACDC/rgb_anon/night/{train,val}/<seq>/<name>_rgb_anon.png
#   data/ACDC/gt/night/{train,val}/<seq>/<name>_gt_labelTrainIds.png
# (19 Cityscapes train ids, 255 ignore). RUAS Sec. 7.2 samples 400 of the 506
# night images for search / training and 106 for testing: put them in
# train/ and val/, or give split files (ann_file). A Cityscapes-style set
# (leftImg8bit/, gtFine/) uses mmseg's own CityscapesDataset instead:
#   dataset=dict(type='mmseg.CityscapesDataset', data_root='data/cityscapes/',
#                data_prefix=dict(img_path='leftImg8bit/train',
#                                 seg_map_path='gtFine/train'))
# Loaded by mmseg's own transforms (its Cityscapes pipeline without the
# photometric distortion); mIoU with mmseg's IoUMetric at the label size.
dataset_type = 'ACDCDataset'
data_root = 'data/ACDC/'
crop_size = (512, 512)

train_pipeline = [
    dict(type='mmseg.LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(
        type='mmseg.RandomResize',
        scale=(1920, 1080),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PackSegInputs'),
]
test_pipeline = [
    dict(type='mmseg.LoadImageFromFile'),
    dict(type='mmseg.Resize', scale=(1920, 1080), keep_ratio=True),
    # labels loaded after Resize stay at their original size, where
    # IoUMetric compares them with the prediction (resized back)
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        condition='night',
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        condition='night',
        split='val',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
