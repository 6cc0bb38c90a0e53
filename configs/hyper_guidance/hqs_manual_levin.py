# Ablation "manual guidance" (official meta_man_stack): stage 1 gets the
# true noise-level map (manual_guidance=<float>: a fixed level)
# Guide: docs/methods/hyper_guidance.md
_base_ = ['./hqs_proxy_naive_levin.py']
model = dict(
    manual_guidance='true',
    network=dict(
        guidance='manual',
        manual_stages=(0, ),
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
