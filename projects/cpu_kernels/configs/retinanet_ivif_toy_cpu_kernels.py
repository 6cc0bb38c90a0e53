# The headline toy job (configs/tim/retinanet_ivif_toy.py) with the CPU
# kernels of this plugin in the model it trains and validates. Run from the
# repository root:
#   PYTHONPATH=projects/cpu_kernels python tools/train.py \
#       projects/cpu_kernels/configs/retinanet_ivif_toy_cpu_kernels.py
_base_ = ['../../../configs/tim/retinanet_ivif_toy.py']

# import the plugin before the runner is built: it registers CpuKernelsHook
custom_imports = dict(imports=['cpu_kernels'], allow_failed_imports=False)

# the base's hooks, then the plugin's: training=True puts in the inference
# kernels and the fast training path of the fusion network; cpu_malloc:
# glibc keeps freed feature maps for reuse
custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),
    dict(type='FusedImageSaveHook'),
    dict(
        type='CpuKernelsHook',
        training=True,
        cpu_malloc=dict(mmap_threshold=32 * 2**20, trim_threshold=2**30))
]
