# Retrain a separation-search genotype with its search loss, content_ssim
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/methods/tim_real_search.md
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
