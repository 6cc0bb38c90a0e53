# DCNAS x4 on toy: supernet training (uniform paths).
_base_ = ['./_base_/supernet_toy.py']
work_dir = 'work_dirs/dcnas_toy_x4'
