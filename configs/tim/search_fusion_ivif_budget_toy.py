# search_fusion_ivif_toy.py with TIM's latency regulariser as a HARD budget:
# λ·Reg(α) (the expected choice-point latency, normalised so that the slowest
# architecture costs 1) is added to the upper loss, and
#   budget=0.6  -> at the first α step, a space whose fastest architecture
#                  exceeds 60 % of the slowest one's latency stops the run
#                  (ResourceConstraintError naming the cheapest candidates);
#                  every exported genotype is made to meet it (the choice
#                  points whose cheaper candidate loses the least probability
#                  per ms are switched; genotype meta: budget, cost,
#                  budget_swaps).
# The latency table is measured once on this machine and cached in the work
# dir. See docs/user_guides/search.md and docs/user_guides/reliability.md.
#   python tools/train.py configs/tim/search_fusion_ivif_budget_toy.py
#   python tools/train.py configs/tim/search_fusion_ivif_budget_toy.py \
#       --cfg-options model.regularizer.budget=0.5
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
