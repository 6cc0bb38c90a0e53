# DCNAS-Tiny x4 on NYU v2: supernet, uniform paths (docs/methods/dcnas.md)
_base_ = ['./_base_/supernet_nyu.py']
num_features = 8
model = dict(network=dict(num_features=8))
work_dir = 'work_dirs/dcnas_tiny_nyu_x4'
