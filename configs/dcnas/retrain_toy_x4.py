# DCNAS x4 on toy RGB-D: retrain the best genotype (docs/methods/dcnas.md)
_base_ = ['./supernet_toy_x4.py']
model = dict(network=dict(_delete_=True, type='GenotypeNet',
                          genotype='work_dirs/dcnas_toy_x4/search/best_genotype.yaml'))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=300,
                 val_interval=300)
work_dir = 'work_dirs/dcnas_toy_x4/retrain'
