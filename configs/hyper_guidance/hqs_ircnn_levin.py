# Baseline with the IRCNN denoiser (official denoise_model: 1 input
# channel, dilations 1,2,3,4,3,2,1, 185,857 params per stage) and no
# guidance, trained end-to-end in the same unrolled HQS scheme.
_base_ = ['./hqs_proxy_naive_levin.py']
model = dict(
    network=dict(
        guidance='none',
        denoiser=dict(type='DilatedDenoiser', dilations='ircnn')))
