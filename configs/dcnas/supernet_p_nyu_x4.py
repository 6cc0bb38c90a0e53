# DCNAS x4 on NYU v2: predictor-guided supernet (docs/methods/dcnas.md)
_base_ = ['./supernet_nyu_x4.py']
train_cfg = dict(sampler=dict(_delete_=True, type='PredictorPathSampler',
    predictor='work_dirs/dcnas_nyu_x4/predictor/predictor.pth', m=20,
    refresh_interval=1260, refresh_start=1890,
    refresh_paths=100, refresh_batches=3, refresh_epochs=50,
    cost_table=dict(type='PathCostTable', cost_model=dict(type='DCNASCostModel',
        num_features={{_base_.num_features}}, num_blocks={{_base_.num_blocks}}, input_size=(480, 480)),
        cache_file='work_dirs/dcnas_nyu_x4/path_costs.json', measure_latency=False),
    band_metric='flops', seed=60,
    label_norm='standardize'))  # refresh labels standardised (official: raw; docs/methods/dcnas.md)
work_dir = 'work_dirs/dcnas_nyu_x4_p'
