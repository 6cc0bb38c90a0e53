# TIM's fusion search on real RoadScene221 pairs (search_fusion_ivif_roadscene221_cpu.py)
# run until softmax(α) has separated instead of for a fixed 6 epochs, with the
# loss set that trains TIM's networks best on these pairs:
# - ArchSeparationHook measures the separation after every epoch and ends the
#   search once, on every mixed edge and every cell choice, the most probable
#   candidate is at least 1.5 x as probable as the second
#   (docs/user_guides/search.md, "Searching until α separates"); 20 epochs
#   (440 weight steps, 88 α steps) is the cap. The curve is saved in the
#   checkpoints (a resumed search continues it) and, by
#   benchmarks/bench_search_vs_random.py --spaces
#   tim_fusion_roadscene221_separation, in the genotype's meta.
# - Both α levels (cells and operations) are searched together in every
#   epoch, with α Adam 3e-2: the base config's staging freezes the cell-level
#   α after its two cell epochs, before it can separate, and at lower rates
#   α does not separate within the cap (the ratios per rate:
#   docs/user_guides/search_controls.md, record
#   docs/results/search_vs_random_roadscene221_separation.json).
# - Losses: `content_ssim` (../_base_/losses/content_ssim.py: max-intensity +
#   10 x max-gradient + 1 - SSIM), at both levels: the loss set with the best
#   mean rank for TIM and TIM-searched on TNO and RoadScene-50 in the loss x
#   architecture grid (docs/methods/fusion_trained_grid.md); TIM's own losses
#   are the base config's. The derived genotype is retrained with the same
#   loss by retrain_fusion_ivif_roadscene221_content_ssim_cpu.py.
# Everything else (space, data halves, IAS with T = 5) as the base config.
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/tim/search_fusion_ivif_roadscene221_separation_cpu.py
_base_ = [
    './search_fusion_ivif_roadscene221_cpu.py',
    '../_base_/losses/content_ssim.py',
]

max_epochs = 20  # the cap
model = dict(architecture=dict(losses={{_base_.losses}}))
train_cfg = dict(max_epochs=max_epochs)
# α: Adam 3e-2 (the base config's 3e-3 x 10; see above)
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-2)))
custom_hooks = [
    # both levels in every epoch: every key the criterion reads can move
    dict(type='ArchScheduleHook', stages=[dict(begin=0, levels=[0, 1])]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
    dict(type='ArchSeparationHook', ratio=1.5, interval=1, by_epoch=True,
         stop=True),
]
work_dir = 'work_dirs/search_fusion_ivif_roadscene221_separation_cpu'
