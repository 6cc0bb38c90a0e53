# Toy sibling of hqs_noguide_levin.py (docs/methods/hyper_guidance.md)
_base_ = ['./hqs_proxy_naive_toy.py']
model = dict(
    network=dict(
        guidance='none',
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
