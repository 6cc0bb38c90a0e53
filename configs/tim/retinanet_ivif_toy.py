# The toy headline (README command (1)): the model of retinanet_ivif.py --
# TIM's stage-1 N_F + an MMDetection RetinaNet R18 trained on
# l_T + eta * l_F -- at toy size, on the embedded procedural IR/VIS data,
# with the detection neck found by the project's own search (TIM Sec. 4.3.1:
# a top-down + bottom-up cascade of 6 two-node C_FD cells over ResNet-18/4
# C2-C5, strides 4-32 like the FPN it replaces). N_F at 8 channels, the
# backbone at 1/4 width without pretrained weights (nothing is downloaded),
# 128x128 inputs, 300 iterations (50 of fusion warm-up), validation (COCO
# bbox mAP + fusion metrics) and a checkpoint every 100; sized for a CPU.
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/retinanet_ivif_toy.py
#   python tools/train.py configs/tim/retinanet_ivif_toy.py --resume
#   python tools/test.py configs/tim/retinanet_ivif_toy.py \
#       work_dirs/retinanet_ivif_toy/iter_300.pth
# The neck: genotypes/retinanet_ivif_toy_neck_darts1_s4.yaml, derived by
# search_retinanet_ivif_toy.py (DARTS first order + the skip / conv_1 cap,
# the 64 px proxy), search seed 4 of the neck control; the
# command that reproduces it is in the genotype file's header. Rebuilt at
# width 24, the largest whose detector FLOPs do not exceed the FPN's (0.562
# vs 0.671 GFLOPs at 128 px; parameters equal, 1.041 M).
# Its mAP against the FPN and random necks of the space (3 seeds,
# benchmarks/bench_config_seeds.py): docs/methods/tim_task_necks.md and the
# control's record docs/results/neck_headline_control.json (rendered in
# docs/methods/tim_neck_search.md).
# FPN alternative:
# configs/tim/retinanet_ivif_fpn_toy.py. Direct-fusion baseline:
# configs/tim/retinanet_ivif_direct_toy.py (FPN).
_base_ = './retinanet_ivif_fpn_toy.py'

neck_channels = 24
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='{{ fileDirname }}/genotypes/'
            'retinanet_ivif_toy_neck_darts1_s4.yaml',
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
