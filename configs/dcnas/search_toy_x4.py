# DCNAS x4 on toy RGB-D: constrained evolution with the supernet weights,
# exports <work_dir>/search/best_genotype.yaml (docs/methods/dcnas.md)
_base_ = ['./supernet_toy_x4.py']
load_from = 'work_dirs/dcnas_toy_x4/iter_300.pth'
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
                        num_blocks={{_base_.num_blocks}}, input_size=(64, 64)),
        cache_file='work_dirs/dcnas_toy_x4/path_costs.json',
        measure_latency=False),
    budgets=dict(params=300000),
    predictor='work_dirs/dcnas_toy_x4/predictor/predictor.pth',
    init_pool=64,
    population_size=8,
    top_k=3,
    num_mutation=3,
    num_crossover=3,
    max_iters=4,
    mutate_prob=0.2,
    seed=0)

work_dir = 'work_dirs/dcnas_toy_x4'
