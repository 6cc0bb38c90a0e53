# Proxy-based hyper-guidance: 5 unrolled HQS stages (official network)
# Guide: docs/methods/hyper_guidance.md
model = dict(
    type='HQSRestorer',
    network=dict(
        type='UnrolledHQSNet',
        num_stages=5,
        rho=dict(noise_sigma=0.01, sigma_start=49.0, sigma_end=13.0),
        data_step=dict(type='HQSDeconv'),
        proxy=dict(type='NoiseLevelProxy', width=64, num_convs=4),
        denoiser=dict(type='DilatedDenoiser', dilations='ffd', width=64),
        guidance='proxy'),
    network_channels=1,
    rec_weight=1.0,
    guidance_weight=100.0,
    rec_stages='last',
    guidance_stages=(0, ),
    data_preprocessor=dict(type='RestorationDataPreprocessor'))
