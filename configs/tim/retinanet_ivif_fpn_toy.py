# Documented alternative to retinanet_ivif_toy.py (README command (1), which
# uses the searched distillation neck): the same FusionDetector with
# mmdet's FPN (64 channels, strides 4-32, start_level=0) -- the toy headline
# before the searched neck replaced it (docs/task_guided.md Sec. 8).
#   python tools/train.py configs/tim/retinanet_ivif_fpn_toy.py
_base_ = './retinanet_ivif_toy.py'

bc = 16
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='FPN',
            in_channels=[bc, bc * 2, bc * 4, bc * 8],
            out_channels=64,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        bbox_head=dict(in_channels=64)))
