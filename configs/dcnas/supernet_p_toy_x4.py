# DCNAS x4 on toy RGB-D: predictor-guided supernet (docs/methods/dcnas.md)
_base_ = ['./supernet_toy_x4.py']
train_cfg = dict(sampler=dict(_delete_=True, type='PredictorPathSampler',
    predictor='work_dirs/dcnas_toy_x4/predictor/predictor.pth', m=20,
    refresh_interval=100, refresh_start=100,
    refresh_paths=8, refresh_batches=3, refresh_epochs=5,
    cost_table=dict(type='PathCostTable', cost_model=dict(type='DCNASCostModel',
        num_features={{_base_.num_features}}, num_blocks={{_base_.num_blocks}}, input_size=(64, 64)),
        cache_file='work_dirs/dcnas_toy_x4/path_costs.json', measure_latency=False),
    band_metric='flops', seed=60,
    label_norm='standardize'))  # refresh labels standardised (official: raw; docs/methods/dcnas.md)
work_dir = 'work_dirs/dcnas_toy_x4_p'
