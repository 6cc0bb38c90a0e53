# DCNAS x16 on NYU v2: retrain the best genotype (docs/methods/dcnas.md)
_base_ = ['./supernet_nyu_x16.py']
model = dict(network=dict(_delete_=True, type='GenotypeNet',
                          genotype='work_dirs/dcnas_nyu_x16/search/best_genotype.yaml'))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=7560,
                 val_interval=1260)
work_dir = 'work_dirs/dcnas_nyu_x16/retrain'
train_dataloader = dict(dataset=dict(split_file='train.txt'))
