# Dehazing with proxy-based hyper-guidance (OUR design: the paper shows
# dehazing results, the official code has no dehazing). Atmospheric model
# y = t x + A (1 - t): each stage's proxy reads the hazy input and predicts
# the guidance [t, A] (sigmoid, supervised with the true transmission and
# airlight), the haze data step solves
# min_x ||t x + A(1-t) - y||^2 + rho_t ||x - x_t||^2 per pixel with it, and
# the FFDNet-like denoiser refines [x~, t^, A^]; official alternating
# bilevel training (optimizers and schedule of the deraining config).
# Training: depth-based haze on RGB-D pairs (Middlebury layout; other RGB-D
# sets with their own suffixes); test: SOTS (hazy/ <-> clear/).
_base_ = ['./hqs_proxy_derain_rain100l.py']
model = dict(
    architecture=dict(
        network=dict(
            rho=[0.05, 0.1, 0.2],
            data_step=dict(_delete_=True, type='HazeDataStep', t_min=0.05),
            proxy=dict(out_channels=2, out_act='sigmoid'),
            denoiser=dict(guidance_channels=2),
            proxy_input='y'),
        guidance_weight=1.0))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SyntheticHazeDataset',
        rgb_dir='data/Middlebury/RGB',
        depth_dir='data/Middlebury/Depth',
        crop_size=96,
        length=1000))
val_dataloader = dict(
    dataset=dict(data_root='data/SOTS/outdoor', layout='sots'))
test_dataloader = val_dataloader
