# Toy sibling of hqs_noguide_levin.py (the toy data and schedule of
# hqs_proxy_naive_toy.py, width-16 denoisers).
#   python tools/misc/make_toy_deblur.py data/toy_deblur
#   python tools/train.py configs/hyper_guidance/hqs_noguide_toy.py
_base_ = ['./hqs_proxy_naive_toy.py']
model = dict(
    network=dict(
        guidance='none',
        denoiser=dict(type='DilatedDenoiser', dilations='small_ffd')))
