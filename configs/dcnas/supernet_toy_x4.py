# DCNAS x4 on toy RGB-D: supernet, uniform paths (docs/methods/dcnas.md)
_base_ = ['./_base_/supernet_toy.py']
work_dir = 'work_dirs/dcnas_toy_x4'
