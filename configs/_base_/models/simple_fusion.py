# A small hand-designed fusion CNN trained with SeAFusion-style
# unsupervised losses (max intensity + max Sobel gradient).
model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=1),
    fusion_net=dict(
        type='SimpleFusionNet',
        in_channels=2,
        base_channels=16,
        num_dense=3,
        decoder_channels=(32, 16)),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])
