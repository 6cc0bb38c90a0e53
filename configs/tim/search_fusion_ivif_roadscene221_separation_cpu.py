# The RoadScene221 search run until softmax(alpha) separates, content_ssim
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/methods/tim_real_search.md
_base_ = [
    './search_fusion_ivif_roadscene221_cpu.py',
    '../_base_/losses/content_ssim.py',
]

max_epochs = 20  # the cap
model = dict(architecture=dict(losses={{_base_.losses}}))
train_cfg = dict(max_epochs=max_epochs)
# alpha 3e-2: at lower rates alpha does not separate within the cap
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-2)))
custom_hooks = [
    # both levels every epoch: staged, cell-level alpha freezes too early
    dict(type='ArchScheduleHook', stages=[dict(begin=0, levels=[0, 1])]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
    dict(type='ArchSeparationHook', ratio=1.5, interval=1, by_epoch=True,
         stop=True),
]
work_dir = 'work_dirs/search_fusion_ivif_roadscene221_separation_cpu'
