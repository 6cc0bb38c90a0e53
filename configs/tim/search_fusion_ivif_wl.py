# TIM_w/L: search_fusion_ivif.py with the latency term lambda * Reg(alpha)
# (latency table measured here, cached per device in the work dir)
# Guide: docs/user_guides/search.md
_base_ = ['./search_fusion_ivif.py']

model = dict(
    regularizer=dict(
        _delete_=True,
        type='LatencyRegularizer',
        loss_weight=0.1,
        normalize=True,
        nested=True,
        cache_file='work_dirs/search_fusion_ivif_wl/latency_table.json'))
