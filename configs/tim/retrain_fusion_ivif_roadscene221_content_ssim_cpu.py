# Retrain a genotype of search_fusion_ivif_roadscene221_separation_cpu.py from
# scratch with the loss it was searched with, `content_ssim`
# (../_base_/losses/content_ssim.py); the budget, data (the RoadScene221
# training split; RoadScene-50 for the held-out score) and optimiser of
# retrain_fusion_ivif_roadscene221_cpu.py.
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/tim/retrain_fusion_ivif_roadscene221_content_ssim_cpu.py
_base_ = [
    './retrain_fusion_ivif_roadscene221_cpu.py',
    '../_base_/losses/content_ssim.py',
]
model = dict(
    fusion_net=dict(
        genotype='work_dirs/search_fusion_ivif_roadscene221_separation_cpu/'
        'genotypes/latest.yaml'),
    losses={{_base_.losses}})
work_dir = 'work_dirs/retrain_fusion_ivif_roadscene221_content_ssim_cpu'
