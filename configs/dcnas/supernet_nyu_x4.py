# DCNAS x4 on nyu: supernet training (uniform paths).
_base_ = ['./_base_/supernet_nyu.py']
work_dir = 'work_dirs/dcnas_nyu_x4'
