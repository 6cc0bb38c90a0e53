"""--data-root re-rooting and the mmfusenas:: config package."""
import argparse
import os.path as osp

import pytest
from mmengine.config import Config

import mmfusenas  # noqa: F401 (registers the config package)
from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    reroot_data)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def runner_cfg(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_runner_args(parser)
    return load_runner_config(parser.parse_args(argv))


def test_data_root_reroots_datasets_and_metric_files(tmp_path):
    cfg_path = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
    root = str(tmp_path)
    for argv in (['--data-root', root],
                 ['--cfg-options', f'data_root={root}']):
        cfg = runner_cfg([cfg_path] + argv)
        for split in ('train', 'val', 'test'):
            assert cfg[f'{split}_dataloader'].dataset.data_root == root
        assert cfg.val_evaluator[0].ann_file == osp.join(
            root, 'annotations/instances_val.json')
        assert cfg.val_evaluator[1].type == 'FusionMetric'
        assert cfg.data_root == root
    with pytest.raises(ValueError, match='disagree'):
        runner_cfg([cfg_path, '--data-root', root, '--cfg-options',
                    'data_root=/elsewhere'])
    with pytest.raises(FileNotFoundError, match='--data-root folder'):
        runner_cfg([cfg_path, '--data-root', str(tmp_path / 'nope')])


def test_data_root_reaches_the_search_arch_loader(tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'search_retinanet_ivif_toy.py'))
    changed = reroot_data(cfg, str(tmp_path))
    assert cfg.train_cfg.arch_dataloader.dataset.data_root == str(tmp_path)
    assert 'train_cfg.arch_dataloader.dataset.data_root' in changed
    # other options still apply
    cfg = runner_cfg([
        osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py'),
        '--data-root', str(tmp_path), '--cfg-options',
        'train_cfg.max_iters=7'
    ])
    assert cfg.train_cfg.max_iters == 7


def test_external_projects_can_inherit_our_configs(tmp_path, monkeypatch):
    """``_base_ = 'mmfusenas::tim/retinanet_ivif.py'`` as mmdet configs do.

    MMEngine looks the package up where it is installed; the editable
    install may point at another checkout of the repository, so the
    lookup is pointed at this tree (its ``.mim`` layout is what is tested).
    """
    import mmengine.config.config as mmcfg
    here = osp.join(REPO, 'mmfusenas')
    monkeypatch.setattr(mmcfg, 'get_installed_path', lambda pkg: here
                        if pkg == 'mmfusenas' else pkg)
    assert osp.isfile(osp.join(here, '.mim', 'configs', 'tim',
                               'retinanet_ivif.py'))
    user = tmp_path / 'my_config.py'
    user.write_text("_base_ = 'mmfusenas::tim/retinanet_ivif_toy.py'\n"
                    "model = dict(fusion_net=dict(channels=4))\n")
    cfg = Config.fromfile(str(user))
    assert cfg.model.type == 'FusionDetector'
    assert cfg.model.fusion_net.channels == 4
    assert cfg.model.detector.backbone.base_channels == 16
    # the headline's searched neck is rebuilt from a genotype file next to
    # the packaged config (setup.py ships configs/**/*.yaml with them)
    assert cfg.model.detector.neck.genotype == osp.join(
        here, '.mim', 'configs', 'tim', 'genotypes',
        'retinanet_ivif_toy_neck_darts1_s4.yaml')
    assert osp.isfile(cfg.model.detector.neck.genotype)


def test_reroot_keeps_sub_folders_of_the_config_data_root(tmp_path):
    from mmengine.config import Config

    from mmfusenas.utils.config import reroot_data
    cfg = Config(dict(
        data_root='data/toy_lowlight/',
        train_dataloader=dict(dataset=dict(
            data_root='data/toy_lowlight/train/')),
        train_cfg=dict(arch_dataloader=dict(dataset=dict(
            data_root='data/toy_lowlight/val/'))),
        val_dataloader=dict(dataset=dict(data_root='/elsewhere/')),
        val_evaluator=dict(ann_file='data/toy_lowlight/ann.json')))
    new = str(tmp_path)
    changed = reroot_data(cfg, new)
    assert cfg.train_dataloader.dataset.data_root == f'{new}/train/'
    assert cfg.train_cfg.arch_dataloader.dataset.data_root == f'{new}/val/'
    # set explicitly somewhere else: left alone
    assert cfg.val_dataloader.dataset.data_root == '/elsewhere/'
    assert cfg.val_evaluator.ann_file == f'{new}/ann.json'
    assert cfg.data_root == new
    assert 'val_dataloader.dataset.data_root' not in changed


@pytest.mark.parametrize('launcher,var', [('pytorch', 'RANK'),
                                          ('slurm', 'SLURM_PROCID'),
                                          ('mpi', 'OMPI_COMM_WORLD_RANK')])
def test_data_root_line_is_printed_by_rank_0_only(tmp_path, capsys,
                                                  monkeypatch, launcher,
                                                  var):
    """Each process of a distributed run printed the re-rooting line (the
    config is prepared before the process group exists)."""
    cfg_path = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
    argv = [cfg_path, '--data-root', str(tmp_path), '--launcher', launcher]
    monkeypatch.setenv(var, '1')
    cfg = runner_cfg(argv)
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path)
    assert capsys.readouterr().out == ''
    monkeypatch.setenv(var, '0')
    runner_cfg(argv)
    assert capsys.readouterr().out.startswith(
        f'data root {tmp_path}: re-rooted ')
