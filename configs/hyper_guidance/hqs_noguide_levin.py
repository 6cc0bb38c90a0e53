# Ablation "no guidance" (official meta_nohyper_stack)
# Guide: docs/methods/hyper_guidance.md
_base_ = ['./hqs_proxy_naive_levin.py']
model = dict(
    network=dict(
        guidance='none',
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
