# Baseline: the IRCNN denoiser, no guidance, unrolled HQS end to end
# Guide: docs/methods/hyper_guidance.md
_base_ = ['./hqs_proxy_naive_levin.py']
model = dict(
    network=dict(
        guidance='none',
        denoiser=dict(type='DilatedDenoiser', dilations='ircnn')))
