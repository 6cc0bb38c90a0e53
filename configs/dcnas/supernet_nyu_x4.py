# DCNAS x4 on NYU v2: supernet, uniform paths (docs/methods/dcnas.md)
_base_ = ['./_base_/supernet_nyu.py']
work_dir = 'work_dirs/dcnas_nyu_x4'
