"""The start-up checks that run before the runner exists
(mmfusenas/utils/config.py, data_folders.py): --cfg-options
values written as dicts, named loss sets, and the data folders of a run;
and the opt-in linter tools/misc/check_config.py: a changed type keeping
arguments, every type= against the registries. Each
failing case leaves nothing on disk."""
import argparse
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmfusenas  # noqa: F401 (registers the config package)
from helpers.tools import load_tool
from mmfusenas.utils.config import (LOSS_RECIPE_DOC, REPLACING_DOC,
                                    UnparsedOption, add_runner_args,
                                    load_loss_set, load_runner_config,
                                    loss_set_names)
from mmfusenas.utils.data_folders import (DATA_DOC, check_data_folders,
                                          run_loaders, toy_sibling)
from mmfusenas.testing.toy_data import generate_toy_dataset

#: the opt-in linter (tools/misc/check_config.py), loaded once: its
#: ConfigTypeError is the class its checks raise
CHECK = load_tool('tools/misc/check_config.py')
ConfigTypeError = CHECK.ConfigTypeError
check_config_types = CHECK.check_config_types

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FUSION_TOY = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')
RETINANET_TOY = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
RETINANET = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif.py')
SETS = 'content, content_ssim, max_intensity_gradient, tim, tim_vgg'
#: how to replace a list or dict, in the messages of refused options
RECIPE = ('To replace {}: set its keys one by one (KEY.SUBKEY=VALUE, list '
          'items by index: KEY.0.SUBKEY=VALUE; KEY._delete_=True first '
          'replaces a dict), name a loss set for a list of losses '
          '(model.losses=tim, configs/_base_/losses/), or write the value in '
          'a child config; see docs/user_guides/train_test.md'
          '#replacing-lists-and-dicts.')


def parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_runner_args(parser)
    return parser.parse_args(argv)


def runner_cfg(argv):
    return load_runner_config(parse(argv))


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run from an empty folder; the test asserts it stays empty."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- --cfg-options values written as Python dicts -------------------------

def test_a_dict_with_a_comma_no_longer_crashes_the_parser():
    """MMEngine's DictAction recursed until RecursionError on
    ``dict(type=..., loss_weight=...)``; the value is kept as text."""
    text = ("[dict(type='MaxIntensityLoss', loss_weight=1.0), "
            "dict(type='MaxGradientLoss', loss_weight=2.0)]")
    args = parse([FUSION_TOY, '--cfg-options', f'model.losses={text}',
                  'train_cfg.max_iters=5'])
    assert isinstance(args.cfg_options['model.losses'], UnparsedOption)
    assert args.cfg_options['model.losses'] == text
    assert args.cfg_options['train_cfg.max_iters'] == 5


def test_a_cfg_option_without_a_value_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        parse([FUSION_TOY, '--cfg-options', 'model.losses'])
    assert "argument --cfg-options: 'model.losses' is not KEY=VALUE" in \
        capsys.readouterr().err


def test_dict_values_are_refused_with_the_recipe(in_tmp):
    text = ("[dict(type='MaxIntensityLoss', loss_weight=1.0), "
            "dict(type='MaxGradientLoss', loss_weight=2.0)]")
    train = load_tool('tools/train.py')
    with pytest.raises(ValueError) as info:
        train.main([FUSION_TOY, '--cfg-options', f'model.losses={text}'])
    assert str(info.value) == (
        f'--cfg-options model.losses={text}: MMEngine\'s --cfg-options '
        'parser does not read Python dicts (dict(...) or {...}): a value is '
        'a number, True / False / None, a string, or a list / tuple of '
        'these ([a,b], (1,2)). ' + RECIPE.format('model.losses'))
    assert os.listdir(in_tmp) == []
    # without a comma inside, MMEngine's parser gives strings
    with pytest.raises(ValueError) as info:
        runner_cfg([FUSION_TOY, '--cfg-options',
                    "model.losses=[dict(type='MaxIntensityLoss'),"
                    "dict(type='MaxGradientLoss')]"])
    assert str(info.value).startswith(
        "--cfg-options model.losses=[dict(type='MaxIntensityLoss'), "
        "dict(type='MaxGradientLoss')]: MMEngine's --cfg-options parser ")


def test_unbalanced_brackets_are_named():
    with pytest.raises(ValueError) as info:
        runner_cfg([FUSION_TOY, '--cfg-options', 'model.losses=[1,2'])
    assert str(info.value) == (
        "--cfg-options model.losses=[1,2: MMEngine's --cfg-options parser "
        'cannot read this value (unbalanced brackets?); a value is a number, '
        'True / False / None, a string, or a list / tuple of these ([a,b], '
        '(1,2)).')


def test_a_dict_for_another_key_gets_the_recipe():
    with pytest.raises(ValueError) as info:
        runner_cfg([FUSION_TOY, '--cfg-options',
                    "optim_wrapper.optimizer=dict(type='SGD', lr=0.1, "
                    'momentum=0.9)'])
    assert str(info.value).endswith(
        RECIPE.format('optim_wrapper.optimizer'))
    # which works
    cfg = runner_cfg([
        FUSION_TOY, '--cfg-options', 'optim_wrapper.optimizer._delete_=True',
        'optim_wrapper.optimizer.type=SGD', 'optim_wrapper.optimizer.lr=0.1',
        'optim_wrapper.optimizer.momentum=0.9'
    ])
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.1,
                                               momentum=0.9)


def test_delete_for_a_list_item_is_refused():
    """MMEngine keeps ``_delete_`` of a list item as an argument."""
    with pytest.raises(ValueError) as info:
        runner_cfg([FUSION_TOY, '--cfg-options',
                    'model.losses.0._delete_=True',
                    'model.losses.0.type=MaxIntensityLoss'])
    assert str(info.value) == (
        '--cfg-options model.losses.0._delete_=True: _delete_ replaces a '
        'dict, not an item of a list: MMEngine merges a list item by its '
        'index and keeps _delete_ as an argument of model.losses.0. '
        + RECIPE.format('model.losses.0'))


# --- --cfg-options values of the wrong type -------------------------------

@pytest.mark.parametrize('option, expected', [
    ('optim_wrapper.optimizer.lr=abc', 'expected a number; the config has '
     'the float 0.0001'),
    ('randomness.seed=abc', 'expected a number; the config has the int 0'),
    ('model.fusion_net.channels=-4', 'expected a non-negative integer (a '
     'size or a count); the config has the int 48'),
    ('model.fusion_net.channels=4.5', 'expected a non-negative integer'),
    ('train_dataloader.batch_size=four', 'expected a non-negative integer'),
    ('model.losses.1.loss_weight=x', 'expected a number'),
])
def test_a_value_of_the_wrong_type_is_named(option, expected):
    """Such values failed deep inside torch / numpy, naming no option."""
    with pytest.raises(ValueError) as info:
        runner_cfg([FUSION_TOY, '--cfg-options', option])
    assert str(info.value).startswith(f'--cfg-options {option}: {expected}')


def test_a_wrong_type_fails_before_the_runner_is_built(in_tmp):
    train = load_tool('tools/train.py')
    with pytest.raises(ValueError, match=r'^--cfg-options '
                       r'model\.fusion_net\.channels=-4: expected a '
                       'non-negative integer'):
        train.main([RETINANET_TOY, '--cfg-options',
                    'model.fusion_net.channels=-4'])
    assert os.listdir(in_tmp) == []


def test_values_of_the_right_type_are_merged():
    cfg = runner_cfg([
        FUSION_TOY, '--cfg-options', 'optim_wrapper.optimizer.lr=0.01',
        'randomness.seed=-3', 'work_dir=x', 'model.fusion_net.channels=16',
        'model.losses.0.loss_weight=2', 'load_from=a.pth',
        'train_dataloader.dataset.pipeline.1.crop_size=[32,32]',
        'train_cfg.val_begin=1', 'model.fusion_net.init_cfg=None'])
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.randomness.seed == -3
    assert cfg.work_dir == 'x'
    assert cfg.model.fusion_net.channels == 16
    assert cfg.model.losses[0].loss_weight == 2
    assert cfg.load_from == 'a.pth'
    assert cfg.train_dataloader.dataset.pipeline[1].crop_size == [32, 32]
    assert cfg.train_cfg.val_begin == 1  # a new key


# --- named loss sets -------------------------------------------------------

def test_loss_sets_are_the_lists_of_the_configs():
    assert loss_set_names() == ['content', 'content_ssim',
                                'max_intensity_gradient', 'tim', 'tim_vgg']
    tim = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', 'tim_fusion_losses.py'))
    simple = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', 'simple_fusion.py'))
    assert load_loss_set('tim') == tim._cfg_dict.to_dict()[
        'tim_fusion_losses']
    assert load_loss_set('tim_vgg') == tim._cfg_dict.to_dict()[
        'tim_fusion_losses_vgg']
    assert load_loss_set('max_intensity_gradient') == \
        simple._cfg_dict.to_dict()['model']['losses']


def test_a_loss_set_is_picked_by_name():
    cfg = runner_cfg([FUSION_TOY, '--cfg-options',
                      'model.losses=max_intensity_gradient'])
    assert cfg.model.losses == [
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0)
    ]
    # a fusion + detection model's list; options below the key change
    # the set's items
    cfg = runner_cfg([
        RETINANET_TOY, '--cfg-options', 'model.fusion_losses=tim_vgg',
        'model.fusion_losses.0.feature_weights=my/vgg16.pth'
    ])
    assert cfg.model.fusion_losses == [
        dict(type='InfoPreservationLoss', measure='vgg',
             feature_weights='my/vgg16.pth', loss_weight=1.0),
        dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0)
    ]


def test_unknown_loss_set_names_are_errors_with_the_sets():
    with pytest.raises(KeyError) as info:
        runner_cfg([FUSION_TOY, '--cfg-options', 'model.losses=timm'])
    assert info.value.args[0].startswith(
        "--cfg-options model.losses=timm: no loss set named 'timm'; did you "
        f'mean tim? The loss sets are {SETS} (')
    assert info.value.args[0].endswith(
        f'_base_/losses/<name>.py; {LOSS_RECIPE_DOC}).')
    with pytest.raises(KeyError) as info:
        runner_cfg([RETINANET_TOY, '--cfg-options', 'model.losses=tim'])
    assert info.value.args[0] == (
        f'--cfg-options model.losses=tim: {RETINANET_TOY} has no '
        'model.losses; its loss lists are model.fusion_losses, e.g. '
        '--cfg-options model.fusion_losses=tim')


def test_a_loss_set_with_a_syntax_error_names_its_file(
        tmp_path, monkeypatch):
    from mmfusenas.utils import config
    (tmp_path / 'broken.py').write_text('losses = [dict(type="L1"\n')
    monkeypatch.setattr(config, 'LOSS_SETS_DIR', str(tmp_path))
    with pytest.raises(SyntaxError) as info:
        load_loss_set('broken')
    assert str(info.value).startswith(f'{tmp_path}/broken.py: ')
    assert 'line 1' in str(info.value)


# --- a changed type keeping arguments --------------------------------------

def test_a_changed_type_keeping_arguments_it_does_not_take_is_refused(
        in_tmp):
    with pytest.raises(KeyError) as info:
        CHECK.main([FUSION_TOY, '--cfg-options',
                    'model.losses.0.type=MaxIntensityLoss'])
    assert info.value.args[0] == (
        f'config {FUSION_TOY}: model.losses.0.measure is not an argument of '
        'MaxIntensityLoss (it takes loss_name, loss_weight, output, type). '
        '--cfg-options model.losses.0.type=... keeps the other keys of '
        'model.losses.0. ' + RECIPE.format('model.losses.0'))
    assert os.listdir(in_tmp) == []
    # the kept argument is one the new type takes: fine
    cfg = runner_cfg([
        osp.join(REPO, 'configs', 'baselines', 'fusion_toy.py'),
        '--cfg-options', 'model.losses.0.type=IntensityLoss'
    ])
    assert cfg.model.losses[0] == dict(type='IntensityLoss', loss_weight=1.0)


# --- every type= against the registries -------------------------------------

def test_a_misspelt_type_is_named_with_suggestions_by_the_checker(
        in_tmp):
    with pytest.raises(ConfigTypeError) as info:
        CHECK.main([FUSION_TOY, '--cfg-options',
                    'model.losses.0.type=MaxIntensityLos'])
    assert str(info.value) == (
        f"config {FUSION_TOY}: model.losses.0.type = 'MaxIntensityLos' is "
        'not a registered type (looked up in the registries of mmengine, '
        'mmfusenas); did you mean MaxIntensityLoss or IntensityLoss or '
        'MaxGradientLoss?')
    assert isinstance(info.value, KeyError)  # as MMEngine's registries
    assert os.listdir(in_tmp) == []


def test_types_of_config_files_scopes_and_prefixes(tmp_path):
    child = tmp_path / 'typo.py'
    child.write_text(
        "_base_ = 'mmfusenas::tim/retinanet_ivif_toy.py'\n"
        "custom_hooks = [dict(type='FusedImageSaveHok')]\n"
        "model = dict(detector=dict(bbox_head=dict(\n"
        "    loss_cls=dict(type='FocalLos'))))\n"
        "optim_wrapper = dict(optimizer=dict(type='mmdet.AdamW'))\n")
    with pytest.raises(ConfigTypeError) as info:
        check_config_types(runner_cfg([str(child)]))
    lines = str(info.value).splitlines()
    assert lines == [
        # under the detector's _scope_='mmdet'
        f"config {child}: model.detector.bbox_head.loss_cls.type = "
        "'FocalLos' is not a registered type (looked up in the registries "
        'of mmdet, mmengine, mmfusenas); did you mean FocalLoss or '
        'FocalLossCost or LocalNCCLoss?',
        f"config {child}: custom_hooks.0.type = 'FusedImageSaveHok' is not "
        'a registered type (looked up in the registries of mmdet, '
        'mmengine, mmfusenas); did you mean FusedImageSaveHook?',
    ]
    # mmdet.AdamW: mmdet's registries have MMEngine's as parents


def test_types_that_name_no_registry_entry_pass():
    """Classes, importable dotted paths, and the ``type`` of mmcv.ops NMS /
    RoI layers and of the deblurring kernel source are not checked."""
    import torch.nn as nn
    cfg = Config(dict(default_scope='mmfusenas', model=dict(
        type='ImageFusor', a=dict(type=nn.ReLU), b=dict(type='torch.nn.ReLU'),
        test_cfg=dict(nms=dict(type='nms'),
                      roi_layer=dict(type='RoIAlign')),
        kernels=dict(type='motion'))))
    check_config_types(cfg)
    cfg.model.b.type = 'torch.nn.ReLUU'
    with pytest.raises(ConfigTypeError) as info:
        check_config_types(cfg)
    assert str(info.value).startswith(
        "config: model.b.type = 'torch.nn.ReLUU' is not a registered type")


# every shipped config passes the type check (no false alarm):
# tests/test_tools/test_config_files.py::test_config_passes_the_type_check


# --- the data folders of a run ---------------------------------------------

def test_real_config_without_its_data_fails_before_the_runner(in_tmp):
    """The M3FD headline failed after the runner was built, suggesting the
    toy generator (which cannot write M3FD), and left a work dir with a
    lock file and a log folder."""
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    with pytest.raises(FileNotFoundError) as info:
        train.main([RETINANET])
    assert str(info.value) == '\n'.join([
        f'config {RETINANET}: the data of this run is missing (paths from '
        f'{in_tmp}):',
        "  train_dataloader.dataset (PairedDetDataset): data_root "
        "'data/M3FD/' is not a folder",
        "  val_dataloader.dataset (PairedDetDataset): data_root "
        "'data/M3FD/' is not a folder",
        'Put the data there (folder layouts: docs/user_guides/datasets.md'
        '#layouts) or point the config at it: --data-root DIR re-roots every '
        'dataset, --cfg-options train_dataloader.dataset.data_root=DIR sets '
        'one path.',
        f'No data? {RETINANET_TOY} is the toy sibling of this config: the '
        'same pipeline on the embedded toy data.',
    ])
    assert 'make_toy_data' not in str(info.value)
    ckpt = str(in_tmp.parent / 'ckpt.pth')
    torch.save({'state_dict': {}}, ckpt)
    with pytest.raises(FileNotFoundError) as info:
        test.main([RETINANET, ckpt])
    assert str(info.value).splitlines()[1] == (
        "  test_dataloader.dataset (PairedDetDataset): data_root "
        "'data/M3FD/' is not a folder")
    assert os.listdir(in_tmp) == []


def test_toy_config_gets_the_toy_data_command(in_tmp):
    cfg = Config.fromfile(RETINANET_TOY)
    with pytest.raises(FileNotFoundError) as info:
        check_data_folders(cfg, 'train')
    assert str(info.value).splitlines()[-1] == (
        'This is toy data; write it with: `python tools/misc/make_toy_data.py '
        'data/toy --num 300 --seed 0`.')
    # with the folder but not its annotation file
    generate_toy_dataset('data/toy', num=2, seed=0, size=64)
    os.remove('data/toy/annotations/instances_val.json')
    with pytest.raises(FileNotFoundError) as info:
        check_data_folders(cfg, 'train')
    assert str(info.value).splitlines()[1:] == [
        '  val_dataloader.dataset (PairedDetDataset): ann_file '
        "'data/toy/annotations/instances_val.json' does not exist",
        'This is toy data; write it with: `python tools/misc/make_toy_data.py '
        'data/toy --num 300 --seed 0`.'
    ]
    generate_toy_dataset('data/toy', num=2, seed=0, size=64)
    check_data_folders(cfg, 'train')
    check_data_folders(cfg, 'test')


@pytest.mark.skipif(
    not osp.isdir(osp.join(REPO, '..', 'shared', 'data', 'fusion')),
    reason='needs ../shared/data/fusion beside the repository')
def test_configs_on_the_shared_data_pass():
    """Real configs whose data is in ../shared/data (no false alarm)."""
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for name in ('tim_ivif_roadscene221_cpu', 'tim_mri_pet_harvard_cpu',
                     'search_fusion_ivif_roadscene221_cpu'):
            cfg = Config.fromfile(
                osp.join(REPO, 'configs', 'tim', f'{name}.py'))
            for mode in ('train', 'test'):
                # the check has loaders to look at (a search has no test
                # loader), on folders that exist
                loaders = run_loaders(cfg, mode)
                assert loaders or (mode, name[:6]) == ('test', 'search')
                for _, loader in loaders:
                    assert osp.isdir(loader['dataset']['data_root'])
                check_data_folders(cfg, mode)
    finally:
        os.chdir(cwd)


def test_toy_siblings():
    assert toy_sibling(RETINANET) == RETINANET_TOY
    assert toy_sibling(RETINANET_TOY) is None
    assert toy_sibling(osp.join(REPO, 'configs', 'tim',
                                'fusion_ivif_tno.py')) is None


def test_the_documents_named_by_the_messages_exist():
    doc_text = load_tool('tests/test_docs/doc_text.py')
    docs = {DATA_DOC, LOSS_RECIPE_DOC, REPLACING_DOC}
    for doc in docs:
        page, _, anchor = doc.partition('#')
        assert anchor in doc_text.anchors(doc_text.read(page)), doc
