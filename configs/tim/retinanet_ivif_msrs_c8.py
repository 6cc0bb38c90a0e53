# N_F at C = 8 trained jointly with the protocol RetinaNet from the
# fusion-only checkpoint of fusion_ivif_msrs_c8.py
# Guide: docs/methods/tim_task_real.md
_base_ = ['./retinanet_ivif_msrs.py']
warmup = 0
det_iters = 2000

model = dict(
    fusion_net=dict(channels=8),
    fusion_init='checkpoints/tim_c8_msrs_fusion.pth')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=200),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=200,
        end=det_iters,
        T_max=det_iters - 200,
        eta_min=2e-5),
]
train_cfg = dict(max_iters=det_iters, val_interval=det_iters)
custom_hooks = [dict(type='FusedImageSaveHook')]
