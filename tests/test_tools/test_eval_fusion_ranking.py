"""The ranking rule shared by eval_fusion.py --methods-root and
bench_fusion_real.py."""
import math

from mmfusenas.evaluation.fusion_files import LOWER_BETTER, add_ranks


def test_ranks_ties_direction_non_finite_and_absent_rows():
    table = {
        'a': {'EN': 7.0, 'Nabf': 0.1, 'CE': 0.5},
        'b': {'EN': 7.0, 'Nabf': 0.3, 'CE': math.nan},
        'c': {'EN': 6.0, 'Nabf': 0.2, 'CE': 0.4},
        'd': {'absent': 'no weights'},
    }
    add_ranks(table, ['EN', 'Nabf', 'CE'])
    assert {'Nabf', 'CE', 'MSE'} <= LOWER_BETTER
    assert table['a']['rank'] == {'EN': 1, 'Nabf': 1, 'CE': 2}
    assert table['b']['rank'] == {'EN': 1, 'Nabf': 3, 'CE': 3}  # NaN last
    assert table['c']['rank'] == {'EN': 3, 'Nabf': 2, 'CE': 1}
    assert table['a']['mean_rank'] == round(4 / 3, 3)
    assert table['c']['mean_rank'] == 2.0
    assert 'rank' not in table['d']
    add_ranks(table, ['EN'], lower_better=['EN'])
    assert table['c']['rank'] == {'EN': 1}


def test_one_metric_table_without_mean_rank():
    table = {'a': {'RMSE': 1.2}, 'b': {'RMSE': 1.0}, 'c': {'RMSE': 1.2}}
    add_ranks(table, ['RMSE'], lower_better=['RMSE'], mean_rank=False)
    # ties share the best rank; no mean_rank key
    assert table == {'a': {'RMSE': 1.2, 'rank': {'RMSE': 2}},
                     'b': {'RMSE': 1.0, 'rank': {'RMSE': 1}},
                     'c': {'RMSE': 1.2, 'rank': {'RMSE': 2}}}
