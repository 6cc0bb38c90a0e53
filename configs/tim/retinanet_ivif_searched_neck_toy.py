# Documented alternative to retinanet_ivif_toy.py (README command (1), which
# keeps mmdet's FPN): the same FusionDetector with the distillation neck found
# by the project's own search (TIM Sec. 4.3.1; top-down + bottom-up cascade of
# 6 two-node C_FD cells over ResNet-18/4 C2-C5, strides 4-32 like the FPN).
# The genotype file was produced by (IAS, 30 iterations, supernet at width 16,
# toy early-fused input [IR, Y, max(IR, Y)]):
#   python benchmarks/bench_task_necks.py --iters 100 --batch 8 --random 1 \
#       --seeds 0 1 --search-iters 30 --search-batch 4 \
#       --variants fpn searched random0 \
#       --genotype-out configs/tim/genotypes/retinanet_ivif_toy_neck.yaml
# and is rebuilt at width 24, the largest whose detector FLOPs do not exceed
# the FPN's (0.599 vs 0.671 GFLOPs at 128 px). Why it is not the headline
# (docs/task_guided.md Sec. 8): it beats FPN in the detector-only benchmark
# (0.256 vs 0.217 mAP, 3 seeds) but not behind N_F in this pipeline (0.162
# vs 0.242 mAP at iteration 300, seed 0).
#   python tools/train.py configs/tim/retinanet_ivif_searched_neck_toy.py
_base_ = './retinanet_ivif_toy.py'

neck_channels = 24
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='{{ fileDirname }}/genotypes/retinanet_ivif_toy_neck.yaml',
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
