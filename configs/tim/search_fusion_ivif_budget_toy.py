# search_fusion_ivif_toy.py with TIM's latency regulariser as a hard budget
# (the latency table is measured once here and cached in the work dir)
# Guide: docs/user_guides/search.md
_base_ = ['./search_fusion_ivif_toy.py']

model = dict(
    regularizer=dict(
        _delete_=True,
        type='LatencyRegularizer',
        loss_weight=0.1,
        normalize=True,
        budget=0.6,
        repeats=5,
        warmup=1,
        threads=1,
        cache_file='work_dirs/search_fusion_ivif_budget_toy/latency.json'))
