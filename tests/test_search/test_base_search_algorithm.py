"""The shared base of the search algorithms: one data-preprocessor policy,
architecture building, frozen sub-modules, strategy and optimizer checks,
on each of :class:`BilevelSearchAlgorithm`,
:class:`LossWeightSearchAlgorithm` and :class:`ProxyBilevelAlgorithm`."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseDataPreprocessor
from mmengine.registry import DefaultScope

from mmfusenas.models.data_preprocessors import FusionDataPreprocessor
from mmfusenas.registry import MODELS
from mmfusenas.search import (BaseSearchAlgorithm, BilevelSearchAlgorithm,
                              DartsFirstOrderStrategy,
                              LossWeightSearchAlgorithm,
                              ProxyBilevelAlgorithm)
from mmfusenas.search.algorithms import base as base_module
from helpers import tiny_search_space
from test_proxy_bilevel import _restorer_cfg


def fusor(**kw):
    cfg = dict(
        type='ImageFusor',
        fusion_net=tiny_search_space(),
        losses=[dict(type='MaxIntensityLoss')])
    cfg.update(kw)
    return cfg


def enhancer(**kw):
    cfg = dict(
        type='ImageEnhancer',
        network=dict(type='HBLConv', channels=3, kernel_size=3),
        losses=[dict(type='PixelL1Loss'),
                dict(type='TotalVariationLoss')])
    cfg.update(kw)
    return cfg


restorer = _restorer_cfg  # a small HQS restorer config


def build(kind, architecture=None, **kw):
    """An algorithm of ``kind`` around its default (or the given)
    architecture."""
    torch.manual_seed(0)
    if kind == 'bilevel':
        return BilevelSearchAlgorithm(
            architecture=architecture or fusor(),
            strategy=dict(type='DartsFirstOrderStrategy'),
            **kw)
    if kind == 'loss_weight':
        return LossWeightSearchAlgorithm(
            architecture=architecture or enhancer(),
            objective=dict(type='FullReferenceQualityObjective',
                           metric='psnr'),
            **kw)
    return ProxyBilevelAlgorithm(architecture=architecture or restorer(),
                                 **kw)


ARCH = dict(bilevel=fusor, loss_weight=enhancer, proxy=restorer)
OWN_PREPROCESSOR = dict(
    bilevel='FusionDataPreprocessor',
    loss_weight='EnhanceDataPreprocessor',
    proxy='RestorationDataPreprocessor')
KINDS = sorted(ARCH)


# ------------------------------------------------- data-preprocessor policy


@pytest.mark.parametrize('kind', KINDS)
def test_default_preprocessor_is_the_architectures_own(kind):
    algo = build(kind)
    assert isinstance(algo, BaseSearchAlgorithm)
    assert algo.data_preprocessor is algo.architecture.data_preprocessor
    assert type(algo.data_preprocessor).__name__ == OWN_PREPROCESSOR[kind]


@pytest.mark.parametrize('kind', KINDS)
def test_config_is_ignored_when_the_architecture_has_its_own(
        kind, monkeypatch):
    """The runner hands a config's top-level ``data_preprocessor`` to the
    outer model: every algorithm keeps the architecture's and says so."""
    logged = []
    monkeypatch.setattr(base_module, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    algo = build(kind, data_preprocessor=dict(type='DetDataPreprocessor'))
    assert algo.data_preprocessor is algo.architecture.data_preprocessor
    ((msg, kw), ) = logged
    assert msg.startswith(f'{type(algo).__name__}: ignoring '
                          "data_preprocessor={'type': 'DetDataPreprocessor'}")
    assert f'its own {OWN_PREPROCESSOR[kind]}' in msg
    assert kw['level'] == 30  # logging.WARNING


@pytest.mark.parametrize('kind', KINDS)
def test_config_is_built_when_the_architecture_has_the_plain_one(kind):
    arch = ARCH[kind](data_preprocessor=dict(type='BaseDataPreprocessor'))
    algo = build(kind, architecture=arch,
                 data_preprocessor=dict(type='FusionDataPreprocessor'))
    assert type(algo.architecture.data_preprocessor) is BaseDataPreprocessor
    assert isinstance(algo.data_preprocessor, FusionDataPreprocessor)
    assert algo.data_preprocessor is not algo.architecture.data_preprocessor


@pytest.mark.parametrize('kind', KINDS)
def test_a_module_is_used_as_given(kind):
    given = FusionDataPreprocessor()
    algo = build(kind, data_preprocessor=given)
    assert algo.data_preprocessor is given


def test_policy_on_a_bare_architecture():
    """The policy itself: None -> own, config -> built (plain own),
    module -> as given."""
    arch = nn.Module()  # no data_preprocessor attribute at all
    resolve = BaseSearchAlgorithm.resolve_data_preprocessor
    assert resolve(None, arch) is None
    built = resolve(dict(type='FusionDataPreprocessor'), arch)
    assert isinstance(built, FusionDataPreprocessor)
    assert resolve(built, arch) is built


# ----------------------------------------------------------- architecture


def test_architecture_config_or_module():
    arch = MODELS.build(enhancer())
    assert build('loss_weight', architecture=arch).architecture is arch
    arch = MODELS.build(restorer())
    assert build('proxy', architecture=arch).architecture is arch
    # the bilevel search rewrites the config into the derived network
    with pytest.raises(TypeError, match='BilevelSearchAlgorithm: '
                       'architecture must be a model config'):
        build('bilevel', architecture=MODELS.build(fusor()))
    with pytest.raises(TypeError, match='LossWeightSearchAlgorithm: '
                       'architecture must be a model config .* or an '
                       'nn.Module, got str'):
        build('loss_weight', architecture='ImageEnhancer')


@pytest.mark.parametrize('kind', ['bilevel', 'loss_weight'])
def test_forward_runs_the_architecture(kind):
    """(The restorer's forward needs kernels in its data samples:
    tests/test_search/test_proxy_bilevel.py runs it.)"""
    algo = build(kind).eval()
    x = torch.rand(1, 2 if kind == 'bilevel' else 3, 8, 8)
    with torch.no_grad():
        ours = algo(x, mode='tensor')
        theirs = algo.architecture(x, None, mode='tensor')
    assert torch.equal(ours, theirs)


# --------------------------------------------------------------- freezing


def test_frozen_modules_of_the_loss_weight_search():
    arch = fusor(losses=[dict(type='MaxIntensityLoss'),
                         dict(type='MaxGradientLoss')])
    algo = build('loss_weight', architecture=arch,
                 frozen_modules=['fusion_net.head'])
    head = algo.architecture.fusion_net.head
    frozen = {id(p) for p in head.parameters()}
    assert frozen and not any(p.requires_grad for p in head.parameters())
    # out of the weight level (θ), the rest stays in it
    weights = {id(p) for p in algo.weight_parameters()}
    assert not weights & frozen
    assert weights == {
        id(p) for p in algo.architecture.parameters() if id(p) not in frozen}
    assert algo.frozen_parameter_ids() == frozen
    # eval mode whatever train() is given; the rest follows train()
    algo.train()
    assert not head.training and algo.architecture.fusion_net.training
    assert all(not m.training for m in head.modules())
    algo.eval()
    assert not algo.architecture.fusion_net.training


def test_frozen_modules_of_the_bilevel_search():
    algo = build('bilevel', frozen_modules=['fusion_net.head'])
    head = algo.architecture.fusion_net.head
    frozen = {id(p) for p in head.parameters()}
    assert frozen and not any(p.requires_grad for p in head.parameters())
    assert not {id(p) for p in algo.weight_parameters()} & frozen
    assert {id(p) for p in algo.unfrozen_parameters()} == {
        id(p) for p in algo.weight_parameters()}
    algo.train()
    assert not head.training and algo.architecture.fusion_net.training


@pytest.mark.parametrize('kind', ['bilevel', 'loss_weight'])
def test_bad_frozen_modules_are_named(kind):
    name = dict(bilevel='BilevelSearchAlgorithm',
                loss_weight='LossWeightSearchAlgorithm')[kind]
    with pytest.raises(ValueError, match=f"{name}: frozen_modules entry "
                       "'nope.x' is not a sub-module"):
        build(kind, frozen_modules=['nope.x'])
    with pytest.raises(ValueError, match=f'{name}: frozen_modules must list '
                       'dotted sub-module paths'):
        build(kind, frozen_modules=[''])


def test_a_searched_part_cannot_be_frozen():
    with pytest.raises(ValueError, match="'fusion_net' holds choice points"):
        build('bilevel', frozen_modules=['fusion_net'])


def test_frozen_parameters_context_restores_only_what_it_froze():
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    b.requires_grad_(False)
    with base_module.frozen_parameters([a, b]):
        assert not a.requires_grad and not b.requires_grad
    assert a.requires_grad and not b.requires_grad


# ------------------------------------------------ strategies and optimizers


def _with_strategy(kind, strategy):
    if kind == 'bilevel':
        return BilevelSearchAlgorithm(architecture=fusor(), strategy=strategy)
    if kind == 'proxy':
        return build(kind, scheme='hypergradient', strategy=strategy)
    return build(kind, strategy=strategy)


@pytest.mark.parametrize('kind', KINDS)
def test_strategy_from_config_or_object(kind):
    algo = _with_strategy(kind, dict(type='DartsFirstOrderStrategy'))
    assert type(algo.strategy) is DartsFirstOrderStrategy
    given = DartsFirstOrderStrategy()
    assert _with_strategy(kind, given).strategy is given
    with pytest.raises(TypeError, match=f'{type(algo).__name__}: strategy '
                       'must be a BaseBilevelStrategy .* got Identity'):
        _with_strategy(kind, nn.Identity())
    # a config builds from our registry under another default scope (an
    # mmseg base config sets default_scope='mmseg')
    with DefaultScope.overwrite_default_scope('mmseg'):
        built = algo.build_strategy(dict(type='IASStrategy'))
    assert type(built).__name__ == 'IASStrategy'


@pytest.mark.parametrize('kind', KINDS)
def test_two_optimizers_are_required_and_named(kind):
    algo = build(kind)
    with pytest.raises(TypeError, match=f"{type(algo).__name__} needs an "
                       "OptimWrapperDict with the keys 'weights' and 'arch', "
                       r"got dict with keys \['weights'\]"):
        algo._split_optim_wrapper(dict(weights=None))
    pair = algo._split_optim_wrapper(dict(weights=1, arch=2, other=3))
    assert pair == (1, 2)


def test_state_dicts_hold_the_architecture_and_the_search_state():
    """The state dict holds exactly the architecture, α and the step
    counter (the keys a search checkpoint has)."""
    algo = build('bilevel')
    keys = set(algo.state_dict())
    arch = {'architecture.' + k for k in algo.architecture.state_dict()}
    assert keys - arch == {
        'train_step_count',
        *('arch_params.' + k for k in algo.arch_params.state_dict())}
    proxy = build('proxy')
    assert set(proxy.state_dict()) == {
        'architecture.' + k for k in proxy.architecture.state_dict()}
    copy.deepcopy(proxy)  # the algorithm stays copyable
