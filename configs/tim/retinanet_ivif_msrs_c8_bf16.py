# retinanet_ivif_msrs_c8.py trained under MMEngine's AmpOptimWrapper in
# bfloat16 (CUDA): the joint step's time and memory against float32
# Guide: docs/methods/tim_task_real.md
_base_ = ['./retinanet_ivif_msrs_c8.py']

optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16')
