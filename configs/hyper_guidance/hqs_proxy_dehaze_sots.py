# Dehazing with proxy-based hyper-guidance (our design; no official code);
# trains on depth-based haze of RGB-D pairs, tests on SOTS
# Guide: docs/methods/hyper_guidance.md
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
