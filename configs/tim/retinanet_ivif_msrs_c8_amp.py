# retinanet_ivif_msrs_c8.py under mixed precision (CUDA), as tools/train.py
# --amp sets it: AmpOptimWrapper in float16 with a dynamic loss scale (mmcv's
# CUDA focal loss has no bfloat16 kernel); the joint step's time and memory
# against float32. Guide: docs/methods/tim_task_real.md
_base_ = ['./retinanet_ivif_msrs_c8.py']

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
