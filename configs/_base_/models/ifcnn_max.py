# IFCNN-MAX (Zhang et al., Information Fusion 2020) with the conventions of
# VIF-Benchmark's IFCNN script (docs/methods/fusion_baselines.md): both
# sources read as 8-bit grey, repeated to 3 channels and ImageNet-normalised;
# the 3-channel output is de-normalised, clamped, reduced to grey as OpenCV
# BGR2GRAY does, truncated to 8 bit and recombined with the visible image's
# chroma by Pillow (8-bit YCbCr merge). Shared by the inference config
# (configs/baselines/ifcnn_max_ivif.py) and the training config
# (ifcnn_max_ivif_roadscene221_cpu.py).
imagenet_mean = (0.485, 0.456, 0.406)
imagenet_std = (0.229, 0.224, 0.225)
model = dict(
    type='ImageFusor',
    fusion_net=dict(type='IFCNN', fuse_rule='max'),
    preprocess=dict(
        quantize='round', repeat=3, mean=imagenet_mean, std=imagenet_std),
    postprocess=dict(
        mean=imagenet_mean,
        std=imagenet_std,
        gray_weights=(0.114, 0.587, 0.299),
        luma_quantize='floor',
        color_convert='pillow'))
