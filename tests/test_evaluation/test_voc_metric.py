import multiprocessing
import multiprocessing.dummy

import numpy as np
import pytest
from mmdet.evaluation.functional import mean_ap
from mmdet.evaluation.metrics import VOCMetric as MMDetVOCMetric

from mmfusenas.evaluation.metrics import VOCMetric
from mmfusenas.registry import METRICS


def _results():
    """Two images, two classes: image 0 has one correct class-0 box and a
    false positive; image 1 has its class-1 box found at IoU 0.5."""
    gt0 = dict(bboxes=np.array([[0, 0, 9, 9]], np.float32),
               labels=np.array([0]),
               bboxes_ignore=np.zeros((0, 4), np.float32),
               labels_ignore=np.zeros(0, int))
    gt1 = dict(bboxes=np.array([[0, 0, 19, 9]], np.float32),
               labels=np.array([1]),
               bboxes_ignore=np.zeros((0, 4), np.float32),
               labels_ignore=np.zeros(0, int))
    pred0 = [np.array([[0, 0, 9, 9, 0.9], [20, 20, 29, 29, 0.8]],
                      np.float32), np.zeros((0, 5), np.float32)]
    # class 1: [0, 0, 9, 9] against [0, 0, 19, 9] (legacy +1 sizes):
    # 100 / 200 = 0.5, a hit at iou_thr 0.5
    pred1 = [np.zeros((0, 5), np.float32),
             np.array([[0, 0, 9, 9, 0.7]], np.float32)]
    return [(gt0, pred0), (gt1, pred1)]


def _metric(cls):
    metric = cls(metric='mAP', eval_mode='area')
    metric.dataset_meta = dict(classes=('a', 'b'))
    return metric


def test_voc_metric_equals_mmdets_and_starts_no_process(monkeypatch):
    # mmdet's metric as it is, but with its pool's workers as threads: a
    # forked worker of this (multi-threaded) test process can inherit a lock
    # held by another thread and never start, which hangs the pool's join
    with monkeypatch.context() as m:
        m.setattr(mean_ap, 'Pool', multiprocessing.dummy.Pool)
        expected = _metric(MMDetVOCMetric).compute_metrics(_results())
    # class a: precision 1 at recall 1 -> AP 1; class b: AP 1
    assert expected['mAP'] == pytest.approx(1.0)

    def no_pool(*args, **kwargs):
        raise AssertionError('a process pool was started')

    monkeypatch.setattr(multiprocessing, 'Pool', no_pool)
    saved = mean_ap.Pool
    monkeypatch.setattr(mean_ap, 'Pool', no_pool)
    assert _metric(VOCMetric).compute_metrics(_results()) == expected
    # mmdet's module is left as it was found
    assert mean_ap.Pool is no_pool
    monkeypatch.setattr(mean_ap, 'Pool', saved)


def test_registered_in_the_mmfusenas_scope():
    metric = METRICS.build(dict(type='mmfusenas.VOCMetric', metric='mAP'))
    assert type(metric) is VOCMetric
