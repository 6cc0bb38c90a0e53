# Ablation "manual guidance" (official meta_man_stack): stage 1 is fed the
# true noise-level map sigma (the hand-set hyper-parameter), the later
# stages their proxies; denoiser small_ffd with the 2-channel input
# [x~, sigma] (149,505 params); trained end-to-end on the reconstruction
# loss. manual_guidance=<float> feeds a fixed, possibly wrong, level instead
# (the noise-level-mismatch experiment).
_base_ = ['./hqs_proxy_naive_levin.py']
model = dict(
    manual_guidance='true',
    network=dict(
        guidance='manual',
        manual_stages=(0, ),
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
