# MSRS_det: 307 real MSRS infrared-visible pairs (640x480, day `D` and night
# `N` street scenes; Tang et al., Information Fusion 2022) with YOLO boxes of
# person / bicycle / car (../shared/data/detection/MSRS_det, see its README):
#   DIR/ir/<stem>.jpg                    infrared, grey
#   DIR/vi/<stem>.jpg                    visible, colour
#   DIR/labels/{fusion,infrared,visible}/<stem>.txt
#                                        YOLO `cls cx cy w h`, annotated on
#                                        the fused, infrared, visible image
#   DIR/classes.txt                      `index name` per line
# Ground truth: the `fusion` labels (objects seen in either modality; the
# night visible labels are mostly empty and the infrared ones miss what only
# the visible image shows). Score under the infrared labels with
# `ann_dir='labels/infrared'` in val / test (docs/user_guides/datasets.md).
# Split: contiguous frame-number blocks with gaps (neighbouring frames are
# near-duplicates), splits/msrs_det/{train,val,test}.txt next to this file,
# written by `python tools/dataset_converters/make_msrs_det_split.py`:
# 142 / 59 / 58 pairs, any two frames of different splits >= 33 frame
# numbers apart. Every pair's sizes are checked when the dataset is built
# (check_sizes). Loaders and metrics (COCO bbox mAP + the fusion metrics):
# ./paired_det.py.
_base_ = ['./paired_det.py']

data_root = '../shared/data/detection/MSRS_det/'
split_dir = '{{ fileDirname }}/splits/msrs_det/'
classes = ('person', 'bicycle', 'car')
img_scale = (640, 480)  # (w, h), the MSRS frame size
gt_labels = 'labels/fusion'

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PackFusionDetInputs'),
]

# what the three loaders share: YOLO files, ground truth, sizes checked
yolo_dataset = dict(
    ann_format='yolo',
    data_root=data_root,
    ann_dir=gt_labels,
    classes_file='classes.txt',
    check_sizes=True,
    metainfo=dict(classes=classes))
train_dataloader = dict(
    dataset=dict(
        **yolo_dataset,
        ann_file=split_dir + 'train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        **yolo_dataset,
        ann_file=split_dir + 'val.txt',
        pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        **yolo_dataset,
        ann_file=split_dir + 'test.txt',
        pipeline=test_pipeline))
