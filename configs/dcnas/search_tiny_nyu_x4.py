# DCNAS-Tiny x4 on NYU v2: constrained evolution with the supernet weights,
# exports <work_dir>/search/best_genotype.yaml (docs/methods/dcnas.md)
_base_ = ['./supernet_tiny_nyu_x4.py']
load_from = 'work_dirs/dcnas_tiny_nyu_x4/iter_7560.pth'
train_cfg = dict(
    _delete_=True,
    type='EvolutionSearchLoop',
    dataloader={{_base_.search_val_dataloader}},
    evaluator={{_base_.val_evaluator}},
    metric='gisr/RMSE',
    rule='less',
    fix_network=dict(type='DCNASNet', num_features={{_base_.num_features}}),
    cost_table=dict(
        type='PathCostTable',
        cost_model=dict(type='DCNASCostModel', num_features={{_base_.num_features}},
                        num_blocks={{_base_.num_blocks}}, input_size=(480, 480)),
        cache_file='work_dirs/dcnas_tiny_nyu_x4/path_costs.json',
        measure_latency=False),
    budgets=dict(params=600000),
    predictor='work_dirs/dcnas_tiny_nyu_x4/predictor/predictor.pth',
    init_pool=1000,
    population_size=50,
    top_k=10,
    num_mutation=25,
    num_crossover=25,
    max_iters=120,
    mutate_prob=0.2,
    seed=0)

work_dir = 'work_dirs/dcnas_tiny_nyu_x4'
