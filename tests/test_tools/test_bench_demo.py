"""benchmarks/bench_demo.py reads the validations of the demo run."""
from helpers import load_tool


def test_validations_are_read_by_iteration():
    bench = load_tool('benchmarks/bench_demo.py')
    # the validations of an iteration-based run are logged at step 0 (the
    # epoch): their iteration is that of the training record before them
    records = [dict(step=20, loss=1.0), dict(step=100, loss=0.9),
               {'step': 0, 'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.3,
                'fusion/EN': 6.0},
               dict(step=120, loss=0.5), dict(step=300, loss=0.4),
               {'step': 0, 'coco/bbox_mAP': 0.2, 'coco/bbox_mAP_50': 0.4}]
    assert bench.validations(records) == {
        'iteration 100': {'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.3},
        'iteration 300': {'coco/bbox_mAP': 0.2, 'coco/bbox_mAP_50': 0.4}}
    assert bench.validations(records[:1]) == {}
