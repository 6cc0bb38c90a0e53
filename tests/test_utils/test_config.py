"""--data-root re-rooting and the mmfusenas:: config package."""
import argparse
import os.path as osp

import pytest
from mmengine.config import Config

import mmfusenas  # noqa: F401 (registers the config package)
from mmfusenas.utils.config import add_runner_args, load_runner_config
from mmfusenas.utils.data_folders import reroot_data

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
    cfg = Config(dict(
        data_root='data/toy_lowlight/',
        train_dataloader=dict(dataset=dict(
            data_root='data/toy_lowlight/train/')),
        train_cfg=dict(arch_dataloader=dict(dataset=dict(
            data_root='data/toy_lowlight/val/'))),
        val_dataloader=dict(dataset=dict(data_root='data/other/')),
        val_evaluator=dict(ann_file='data/toy_lowlight/ann.json')))
    new = str(tmp_path)
    changed = reroot_data(cfg, new)
    assert cfg.train_dataloader.dataset.data_root == f'{new}/train/'
    assert cfg.train_cfg.arch_dataloader.dataset.data_root == f'{new}/val/'
    # a root outside the data_root variable (a base's) moves as well
    assert cfg.val_dataloader.dataset.data_root == new
    assert cfg.val_evaluator.ann_file == f'{new}/ann.json'
    assert cfg.data_root == new
    assert 'val_dataloader.dataset.data_root' in changed


def test_data_root_of_a_child_config_is_replaced_and_read(tmp_path,
                                                          monkeypatch):
    """A child with its own ``data_root`` (not the base's, which its
    datasets still hold): ``--data-root`` re-roots the datasets, and the
    dataset built from the config lists the NEW root's images only."""
    from mmfusenas.registry import DATASETS
    from mmfusenas.utils import register_all_modules
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    register_all_modules()
    # the folder holds data/toy (the base's root), as in the report
    monkeypatch.chdir(tmp_path)
    generate_toy_dataset('data/toy', num=4, seed=0, size=64)
    new = str(tmp_path / 'mydata')
    generate_toy_dataset(new, num=6, seed=1, size=64, val_fraction=0.5)
    child = tmp_path / 'child.py'
    child.write_text("_base_ = 'mmfusenas::tim/fusion_ivif_toy.py'\n"
                     "data_root = '/some/where/else/'\n")
    cfg = runner_cfg([str(child), '--data-root', new])
    for split in ('train', 'val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.data_root == new
    for split, num in (('train', 3), ('val', 3)):
        dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
        paths = []
        for i in range(len(dataset)):
            for k, v in dataset.get_data_info(i).items():
                if k.endswith('_path'):
                    paths += list(v.values()) if isinstance(v, dict) else [v]
        assert len(dataset) == num and len(paths) == 2 * num
        assert all(p.startswith(new + '/') for p in paths), paths
    # an explicit --cfg-options root wins over --data-root
    cfg = runner_cfg([
        str(child), '--data-root', new, '--cfg-options',
        'val_dataloader.dataset.data_root=data/toy'
    ])
    assert cfg.val_dataloader.dataset.data_root == 'data/toy'
    assert cfg.train_dataloader.dataset.data_root == new


def test_data_root_that_changes_nothing_is_an_error(tmp_path):
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='X', ann_file='/abs/list.txt'))))
    with pytest.raises(ValueError,
                       match=r'nothing in the config lies under a data root'):
        reroot_data(cfg, str(tmp_path))
    cfg = Config(dict(
        train_dataloader=dict(dataset=dict(data_root='/a/x/')),
        val_dataloader=dict(dataset=dict(data_root='data/y/'))))
    with pytest.raises(ValueError, match=r'the config reads data from '
                       r'unrelated folders.*--cfg-options'):
        reroot_data(cfg, str(tmp_path))


@pytest.mark.parametrize('body, expected', [
    ("trian_cfg = dict(max_iters=3)\n",
     r"top-level key 'trian_cfg' is read by nothing; did you mean "
     r"'train_cfg'\?"),
    ("modle = dict(type='X')\n",
     r"top-level key 'modle' is read by nothing; did you mean 'model'\?"),
    ("train_cfg = dict(max_iter=3)\n",
     r'train_cfg\.max_iter is not an argument of IterBasedTrainLoop .*'
     r'did you mean train_cfg\.max_iters\?'),
    ("default_hooks = dict(logger=dict(intervall=5))\n",
     r'default_hooks\.logger\.intervall is not an argument of .*'
     r'did you mean default_hooks\.logger\.interval\?'),
    ("optim_wrapper = dict(clip_grads=dict(max_norm=1.0))\n",
     r'optim_wrapper\.clip_grads is not an argument of OptimWrapper .*'
     r'did you mean optim_wrapper\.clip_grad\?'),
])
def test_config_file_typos_are_named_with_file_key_and_suggestion(
        tmp_path, body, expected):
    """MMEngine ignores a misspelt top-level key and reports a misspelt
    section key only when the section is built (a bare TypeError); the
    opt-in tools/misc/check_config.py names both, with the file."""
    from helpers.tools import load_tool
    child = tmp_path / 'typo.py'
    child.write_text("_base_ = 'mmfusenas::tim/fusion_ivif_toy.py'\n" + body)
    runner_cfg([str(child)])  # loading does not lint
    with pytest.raises(KeyError) as info:
        load_tool('tools/misc/check_config.py').main([str(child)])
    text = str(info.value)
    assert f'config {child}' in text
    import re
    assert re.search(expected, text), text


# every shipped config passes the key check (no false alarm):
# tests/test_tools/test_config_files.py::test_config_passes_the_key_check,
# which parses each config once for its checks


def test_missing_weight_file_fails_before_the_runner_is_built(
        tmp_path, monkeypatch):
    """A weight file the run reads (here the paper's VGG16 l_F) is checked
    by tools/train.py before anything is built: the message names the key,
    the file, where to get it and the option that does without it."""
    import mmfusenas.engine.runner as engine_runner
    from helpers.tools import load_tool
    train = load_tool('tools/train.py')
    built = []

    class FakeRunner:

        def train(self):
            built.append(1)

    monkeypatch.setattr(engine_runner, 'build_runner',
                        lambda cfg: FakeRunner())
    monkeypatch.chdir(tmp_path)
    cfg_path = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_tno.py')
    with pytest.raises(FileNotFoundError) as info:
        train.main([
            cfg_path, '--cfg-options', 'model.losses.0.measure=vgg',
            'model.losses.0.feature_weights=checkpoints/vgg16-397923af.pth'
        ])
    text = str(info.value)
    assert "model.losses.0.feature_weights = 'checkpoints/" \
        "vgg16-397923af.pth' is not a file" in text
    assert 'https://download.pytorch.org/models/vgg16-397923af.pth' in text
    assert '--cfg-options model.losses.0.measure=gradient ' \
        'model.losses.0.feature_weights=None' in text
    assert built == []
    # the shipped default trains without the file: the checks pass (with
    # the data folders in place) and the runner is built
    for folder in ('ir', 'vi'):
        (tmp_path / 'data' / 'TNO' / folder).mkdir(parents=True)
    train.main([cfg_path])
    assert built == [1]


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
