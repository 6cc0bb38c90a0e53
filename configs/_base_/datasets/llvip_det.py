# LLVIP night-time infrared-visible pedestrian detection (Jia et al., ICCV
# Workshops 2021), VOC boxes, one class:
#   data/LLVIP/ir/<stem>.jpg            infrared (the release's `infrared/`)
#   data/LLVIP/vi/<stem>.jpg            visible, colour, low-light
#   data/LLVIP/Annotations/<stem>.xml   VOC boxes (person)
#   data/LLVIP/splits/{train,test}.txt  stems (the release's train / test)
#   data/LLVIP/annotations/{train,test}.json  the COCO jsons the loaders
#                                       read, written by
#     python tools/dataset_converters/paired_to_coco.py voc data/LLVIP \
#         data/LLVIP/annotations/{split}.json --classes person \
#         --split data/LLVIP/splits/{train,test}.txt
# The release's folders work with data_prefix=dict(ir='infrared/train',
# vi='visible/train') and, for the converter, `--img-dirs infrared/train
# visible/train --orphan-labels ignore` (see docs/user_guides/
# det_seg_datasets.md). ../shared/data/detection/llvip6 holds 6 real pairs
# in this layout (no split files: docs/methods/compose.md converts them).
# The VIS image is loaded as RGB (keep_rgb in the model's preprocessor) so
# that a chain can enhance it before the fusion. Loaders and metrics (COCO
# bbox mAP + the fusion metrics): ./paired_det.py.
_base_ = ['./paired_det.py']

data_root = 'data/LLVIP/'
classes = ('person', )
img_scale = (640, 512)  # (w, h): half the 1280x1024 frames
color_type = dict(ir='gray', vi='color')

train_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PackFusionDetInputs'),
]

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/test.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
