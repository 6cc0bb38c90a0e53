# Night-time LLVIP detection through RUAS scene -> TIM N_F -> RetinaNet R18
# Guide (and the 6 real sample pairs): docs/methods/compose.md
_base_ = [
    '../_base_/models/chain_scene_fusion_retinanet_r18.py',
    '../_base_/datasets/llvip_det.py',
    '../_base_/schedules/schedule_task_guided_20k.py',
    '../_base_/default_runtime.py',
]

model = dict(detector=dict(bbox_head=dict(num_classes=1)))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        'scene_net': dict(lr_mult=0.5),
        'fusion_net': dict(lr_mult=0.5)
    }))
custom_hooks = [
    dict(
        type='ChainStagingHook',
        phases=[
            # 3x: at 1x, N_F's warm-up could end with a negative SSIM on vi_enh
            dict(begin=0, train=['scene'], task=False, lr_mult=3.0),
            dict(begin=500, train=['fusion'], task=False, lr_mult=3.0),
            dict(begin=1000, train='all'),  # = the schedule's warmup_iters
        ],
        recalibrate_bn=50),
    dict(type='FusedImageSaveHook', extra_fields=['pred_vi_enh']),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2000))
