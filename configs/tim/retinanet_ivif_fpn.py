# FPN alternative of the real-data headline retinanet_ivif.py (which holds
# the searched neck instead): task-guided
# infrared-visible fusion with a real MMDetection RetinaNet (TIM Sec. 3.1 /
# 4.3, Alg. 1 line 15): TIM's stage-1 fusion network N_F feeds a RetinaNet
# (ResNet-18, mmdet's FPN P3-P7) and both are trained on l_T + eta * l_F;
# one validation reports COCO bbox mAP and the fusion metrics, and the
# fused images are written next to the logs. The other M3FD detector
# configs (direct fusion, R50, MobileNetV2, the neck retrain) build on this.
#
# Data (docs/user_guides/task_guided.md): M3FD under data/M3FD/ -- ir/, vi/,
# Annotations/<stem>.xml (VOC) and splits/{train,val}.txt.
#   python tools/train.py configs/tim/retinanet_ivif_fpn.py
#   python tools/train.py configs/tim/retinanet_ivif_fpn.py --resume
#   python tools/test.py configs/tim/retinanet_ivif_fpn.py \
#       work_dirs/retinanet_ivif_fpn/iter_20000.pth
# No data? Run the toy sibling: configs/tim/retinanet_ivif_fpn_toy.py.
#
# Stages: 1000 iterations of fusion warm-up (l_F only), then joint training
# with eta = 0.5 (the detector's lr schedule starts after the warm-up). To
# start from a trained N_F instead (a fusion run, e.g.
# configs/tim/fusion_ivif_m3fd.py, or the PMI initialisation):
#   --cfg-options model.fusion_init=work_dirs/fusion_ivif_m3fd/iter_10000.pth \
#       custom_hooks.0.warmup=0 param_scheduler.0.begin=0 \
#       param_scheduler.0.end=500
# Direct-fusion baseline (TIM Table 10): configs/tim/retinanet_ivif_direct.py.
# The backbone starts from scratch; nothing is downloaded. Point its
# init_cfg at a local ImageNet checkpoint to start from pretrained weights.
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/datasets/m3fd_det.py',
    '../_base_/schedules/schedule_task_guided_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=1000),  # = schedule's warmup_iters
    # fused validation / test images next to the logs
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2000))
