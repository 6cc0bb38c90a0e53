# search_retinanet_ivif.py's space searched with the toy recipe on toy data;
# wrote genotypes/retinanet_ivif_neck_toydata_s0.yaml (randomness.seed=0)
# Guide: docs/methods/tim_neck_search.md
_base_ = './search_retinanet_ivif_toy.py'  # holds tim_neck_space too

# the toy recipe's cap (2 of 18) as a fraction of the 40 edges
cheap_op_cap = 4
model = dict(
    architecture=dict(
        detector=dict(
            # trained: the toy backbone has no pre-trained weights
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
