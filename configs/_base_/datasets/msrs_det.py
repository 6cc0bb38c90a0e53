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
# the visible image shows). Split: contiguous frame-number blocks with gaps
# (neighbouring frames are near-duplicates), splits/msrs_det/{train,val,
# test}.txt next to this file, written by
# `python tools/dataset_converters/make_msrs_det_split.py`: 142 / 59 / 58
# pairs, any two frames of different splits >= 33 frame numbers apart.
# The loaders read one COCO json per split, written (sizes of every pair
# checked, boxes partly outside the image clipped) into the git-ignored
# data/MSRS_det/annotations/ of the repository by
#   python tools/dataset_converters/paired_to_coco.py yolo \
#       ../shared/data/detection/MSRS_det \
#       data/MSRS_det/annotations/fusion_{split}.json --labels labels/fusion \
#       --split configs/_base_/datasets/splits/msrs_det/{train,val,test}.txt
# (`labels/infrared` written as infrared_{split}.json and given as the
# test ann_file scores under the infrared labels). Loaders and metrics (COCO
# bbox mAP + the fusion metrics): ./paired_det.py.
_base_ = ['./paired_det.py']

data_root = '../shared/data/detection/MSRS_det/'
# the converter's jsons: data/MSRS_det/annotations/ of the repository
ann_root = '{{ fileDirname }}/../../../data/MSRS_det/annotations/'
classes = ('person', 'bicycle', 'car')
img_scale = (640, 480)  # (w, h), the MSRS frame size

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

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=ann_root + 'fusion_train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=ann_root + 'fusion_val.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=ann_root + 'fusion_test.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
