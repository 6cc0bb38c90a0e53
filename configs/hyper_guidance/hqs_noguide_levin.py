# Ablation "no guidance" (official meta_nohyper_stack): deconvolution ->
# small_ffd denoiser on x~ alone (1 input channel, dilations 1,2,3,3,2,1),
# no proxy; trained end-to-end on the reconstruction loss.
_base_ = ['./hqs_proxy_naive_levin.py']
model = dict(
    network=dict(
        guidance='none',
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
