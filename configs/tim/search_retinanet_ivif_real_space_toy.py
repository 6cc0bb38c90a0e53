# The neck space of search_retinanet_ivif.py (the real-data RetinaNet: full
# ResNet-18, C3-C5 + 2 extra levels at strides 8-128, 4 four-node C_FD
# cells, 40 architecture keys, 64-channel supernet) searched with the toy
# recipe of search_retinanet_ivif_toy.py (DARTS first order, the 64 px
# proxy with anchors of 0.4 x stride, 20 weights-only warm-up iterations,
# the cheap-op cap at derivation) on the embedded toy data -- because M3FD
# is not on the development machine. It wrote
# genotypes/retinanet_ivif_neck_toydata_s0.yaml, the neck of the real-data
# headline configs/tim/retinanet_ivif.py:
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/search_retinanet_ivif_real_space_toy.py \
#       --cfg-options randomness.seed=0
#   -> work_dirs/search_retinanet_ivif_real_space_toy/genotypes/latest.yaml
# On M3FD run search_retinanet_ivif.py instead (same space, its own data)
# and point retinanet_ivif.py's genotype at its result. Evidence: the toy
# space's control (docs/user_guides/search_controls.md) and the headline comparison
# (docs/methods/tim_task_necks.md) are of the toy neck; this space's genotype
# has not been compared with the FPN or random necks.
_base_ = './search_retinanet_ivif_toy.py'  # holds tim_neck_space too

# at most this many parameter-free / 1x1 edges of the 40 (the toy recipe's
# 2 of 18, the same fraction)
cheap_op_cap = 4
model = dict(
    architecture=dict(
        detector=dict(
            # retinanet_ivif.py's ResNet-18 at full width, trained (the toy
            # backbone has no pretrained weights: a frozen random backbone
            # gives the neck no task signal)
            backbone=dict(base_channels=64, frozen_stages=-1),
            neck=_base_.tim_neck_space,
            bbox_head=dict(
                in_channels=64,
                feat_channels=64,
                stacked_convs=4,
                anchor_generator=dict(
                    octave_base_scale=0.4,
                    scales_per_octave=3,
                    strides=[8, 16, 32, 64, 128]),
                bbox_coder=dict(target_stds=[1.0, 1.0, 1.0, 1.0])))),
    regularizer=dict(budget=cheap_op_cap))
