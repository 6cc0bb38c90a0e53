# TIM_w/L on the toy data: search_fusion_ivif_toy.py plus a cost term in the
# upper loss, l_alpha = l_F + lambda * Reg(alpha). On the shared toy CPUs the
# cost is the expected FLOPs of the derived network's choice points
# (FlopsRegularizer: deterministic, unlike timings on a loaded machine),
# normalised by the most expensive architecture's (Reg <= 1), nested
# operators weighted by the probability of their cell. The real config
# (search_fusion_ivif_wl.py) uses measured latency. lambda by config:
#   --cfg-options model.regularizer.loss_weight=0.5
# benchmarks/bench_search_vs_random.py --wl compares the FLOPs of the
# genotypes derived with lambda = 0 and lambda > 0 (docs/user_guides/search.md).
#   python tools/train.py configs/tim/search_fusion_ivif_wl_toy.py
_base_ = ['./search_fusion_ivif_toy.py']

model = dict(
    regularizer=dict(
        _delete_=True,
        type='FlopsRegularizer', loss_weight=0.5, normalize=True,
        nested=True))
