# M3FD infrared-visible detection (Liu et al., CVPR 2022), VOC boxes:
#   data/M3FD/ir/<stem>.png            infrared (the release's `Ir/`)
#   data/M3FD/vi/<stem>.png            visible, colour (the release's `Vis/`)
#   data/M3FD/Annotations/<stem>.xml   VOC boxes (the release's `Annotation/`)
#   data/M3FD/splits/{train,val}.txt   stems, one per line (M3FD ships no
#                                      split; docs/user_guides/task_guided.md shows how
#                                      to write one)
#   data/M3FD/annotations/{train,val}.json  the COCO jsons the loaders read:
#     python tools/dataset_converters/paired_to_coco.py voc data/M3FD \
#         data/M3FD/annotations/{split}.json \
#         --classes People Car Bus Motorcycle Lamp Truck \
#         --split data/M3FD/splits/{train,val}.txt
#   (the search config also reads search_{weights,arch}.json: add their
#   split files to --split)
# The release's own folder names also work: convert with `--img-dirs Ir Vis
# --labels Annotation` and set data_prefix=dict(ir='Ir', vi='Vis').
# No data? `python tools/misc/make_toy_data.py data/toy` and run the
# `_toy` sibling of the config.
# Loaders and metrics (COCO-style bbox mAP + the fusion metrics):
# ./paired_det.py.
_base_ = ['./paired_det.py']

data_root = 'data/M3FD/'
classes = ('People', 'Car', 'Bus', 'Motorcycle', 'Lamp', 'Truck')
img_scale = (1024, 768)  # (w, h), the M3FD frame size

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
        ann_file='annotations/train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/val.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
