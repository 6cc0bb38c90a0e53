# TIM_w/L (TIM Tables 1, 2, 8): the fusion-network search of
# search_fusion_ivif.py with TIM's operation-sensitive latency term in the
# upper loss, l_alpha = l_F + lambda * Reg(alpha), Reg the expected latency
# of the derived network's choice points: each candidate timed alone at its
# real input shape (64x64 patches) on this machine, normalised by the
# slowest architecture's (Reg <= 1), and nested operators weighted by the
# probability of the cell that holds them (LatencyRegularizer,
# nested=True), so the cell-level alpha sees which cell is expensive. The
# table is cached per device in the work dir. lambda by config:
#   --cfg-options model.regularizer.loss_weight=0.3
# Same staged schedule, data and strategy as search_fusion_ivif.py.
#   python tools/train.py configs/tim/search_fusion_ivif_wl.py
_base_ = ['./search_fusion_ivif.py']

model = dict(
    regularizer=dict(
        _delete_=True,
        type='LatencyRegularizer',
        loss_weight=0.1,
        normalize=True,
        nested=True,
        cache_file='work_dirs/search_fusion_ivif_wl/latency_table.json'))
