# IFCNN-MAX with VIF-Benchmark's input / output conventions
# Guide: docs/methods/fusion_baselines.md
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
