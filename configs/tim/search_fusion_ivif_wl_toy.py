# TIM_w/L on the toy data, with expected FLOPs as the cost (deterministic
# on shared CPUs) (docs/user_guides/search.md)
_base_ = ['./search_fusion_ivif_toy.py']

model = dict(
    regularizer=dict(
        _delete_=True,
        type='FlopsRegularizer', loss_weight=0.5, normalize=True,
        nested=True))
