# Proxy-based hyper-guidance (TVC 2023): 5 unrolled HQS stages, each
# deconvolution (rho_t from the DPIR schedule at sigma = 1%) -> noise-level
# proxy H_theta (75,073 params) -> FFDNet-like denoiser A_omega on
# [x~, sigma^] (260,289 params); 1,676,810 parameters in all (official).
# Loss terms: loss_rec = MSE(x_5, clean) (propagation loss f) and
# loss_guide = 100 * MSE(sigma^_1, true sigma map) (guidance loss g).
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
