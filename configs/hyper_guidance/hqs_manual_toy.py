# Toy sibling of hqs_manual_levin.py (docs/methods/hyper_guidance.md)
_base_ = ['./hqs_proxy_naive_toy.py']
model = dict(
    manual_guidance='true',
    network=dict(
        guidance='manual',
        manual_stages=(0, ),
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
