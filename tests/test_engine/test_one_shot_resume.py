"""A one-shot supernet search resumed from a checkpoint trains the paths
of an uninterrupted one and ends with its weights and optimizer state, bit
for bit (the sampler's random state, loader positions and refreshed
predictor are resumed)."""
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmfusenas.models.mutables import one_shot_space
from mmfusenas.search.predictors import BGRUPredictor, save_predictor
from mmfusenas.testing.toy_data import generate_toy_rgbd
from helpers.distributed import (PathRecorderHook, build_one_shot_model,
                                 one_shot_run_cfg)
from helpers.numerics import assert_equal_states


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('rgbd') / 'data')
    generate_toy_rgbd(root, 4, 3, 0, seed=0, size=32)
    return root


def search(work_dir, data_root, sampler, **kwargs):
    """6 supernet iterations (checkpoints every 2); the paths trained."""
    recorder = PathRecorderHook()
    Runner(
        model=build_one_shot_model(),
        work_dir=str(work_dir),
        **one_shot_run_cfg(data_root, sampler, 6, 2, 1),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=2, by_epoch=False)),
        custom_hooks=[recorder],
        default_scope='mmfusenas',
        randomness=dict(seed=0),
        log_level='WARNING',
        **kwargs).train()
    return recorder.paths


@pytest.mark.parametrize('sampler', [
    dict(type='UniformPathSampler'),  # unseeded
    dict(type='BestOfMPathSampler', m=2, val_batches=1, seed=1),
    dict(type='PredictorPathSampler', m=2, refresh_interval=2,
         refresh_start=1, refresh_paths=3, refresh_batches=1,
         refresh_epochs=2, refresh_lr=1e-2, seed=1),
])
def test_resumed_one_shot_search_ends_bit_identically(data_root, sampler,
                                                      tmp_path):
    if sampler['type'] == 'PredictorPathSampler':
        sampler = dict(sampler, predictor=str(tmp_path / 'predictor.pth'))
        torch.manual_seed(0)
        save_predictor(BGRUPredictor(one_shot_space(build_one_shot_model())),
                       sampler['predictor'])
    full = search(tmp_path / 'full', data_root, sampler)
    resumed = search(
        tmp_path / 'resumed',
        data_root,
        sampler,
        load_from=str(tmp_path / 'full' / 'iter_2.pth'),
        resume=True)
    assert len(full) == 6 and len({str(p) for p in full}) > 1
    assert resumed == full[2:]
    a, b = (torch.load(
        osp.join(tmp_path, work, 'iter_6.pth'), weights_only=True)
            for work in ('full', 'resumed'))
    assert_equal_states(a['state_dict'], b['state_dict'])
    assert_equal_states(a['optimizer'], b['optimizer'])
