"""The compound models' methods exist as text.

Every public method / property of a compound model is defined with
``def <name>`` in the source of the class that owns it (none is generated
with ``setattr``), and the task side's methods are abstract: a class that
misses one cannot be built.
"""
import inspect
import re
from typing import List

import pytest
import torch.nn as nn

import mmfusenas.models.compound as compound
from mmfusenas.models.compound import (BasePreTaskModel, FusionDetector,
                                       FusionSegmentor, SceneDetector,
                                       SceneSegmentor, Stage)

TEMPLATE_METHODS = {'_task_loss', '_task_predict'}


def undefined_members(cls: type, package: str = 'mmfusenas') -> List[str]:
    """Public methods / properties of ``cls`` whose owner (the first class
    of the MRO holding the name) is in ``package`` but has no ``def
    <name>`` in its source: generated members, which grep cannot find.

    Returns:
        list[str]: ``'Owner.name'`` for every such member.
    """
    missing = []
    for name in dir(cls):
        if name.startswith('_'):
            continue
        owner = next(k for k in cls.__mro__ if name in vars(k))
        if not owner.__module__.startswith(package):
            continue
        member = vars(owner)[name]
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if not (inspect.isfunction(member) or isinstance(member, property)):
            continue  # data attributes (pre_name, task_scope, ...)
        source = inspect.getsource(owner)
        if not re.search(rf'^\s*def {re.escape(name)}\(', source, re.M):
            missing.append(f'{owner.__name__}.{name}')
    return missing


def compound_classes() -> List[type]:
    classes = [
        obj for obj in vars(compound).values()
        if inspect.isclass(obj) and obj.__module__.startswith(
            'mmfusenas.models.compound')
    ]
    assert len(classes) >= 12
    return classes


@pytest.mark.parametrize('cls', compound_classes(),
                         ids=lambda c: c.__name__)
def test_every_public_method_is_defined_as_text(cls):
    assert undefined_members(cls) == []


def test_the_accessors_take_the_stage_name():
    """One set of accessors, on the model, by stage name (no per-kind
    ``fusion_loss_weight`` / ``set_scene_frozen`` ...)."""
    for member in ('stage', 'set_loss_weight', 'stage_loss_weights',
                   'set_stage_frozen', 'set_pre_frozen', 'pre_frozen',
                   'stage_bn_layers', 'bn_recalibrating',
                   'set_bn_recalibration', 'split_sources', 'run_pre',
                   'weighted_losses', 'apply_phase', 'phase_parts'):
        assert member in vars(BasePreTaskModel), member
    for cls, name in ((FusionDetector, 'fusion'), (FusionSegmentor, 'fusion'),
                      (SceneDetector, 'scene'), (SceneSegmentor, 'scene')):
        for member in (f'{name}_loss_weight', f'{name}_frozen',
                       f'set_{name}_frozen'):
            assert not hasattr(cls, member), (cls.__name__, member)


def test_checker_finds_a_generated_method():
    """A planted violation: a method added with ``setattr`` (as a
    ``__init_subclass__`` would) and a property built by a factory."""

    class Planted(nn.Module):

        def written(self) -> int:
            return 1

    def set_x_frozen(self, frozen):
        pass

    Planted.set_x_frozen = set_x_frozen
    Planted.x_weight = property(lambda self: 0.0)
    assert undefined_members(Planted, package=__name__) == [
        'Planted.set_x_frozen', 'Planted.x_weight']
    # inherited members are checked in their owner's source
    assert undefined_members(type('Child', (Planted, ), {}),
                             package=__name__) == [
        'Planted.set_x_frozen', 'Planted.x_weight']


def test_the_task_side_is_abstract():
    assert BasePreTaskModel.__abstractmethods__ == TEMPLATE_METHODS
    for cls in compound_classes():
        if issubclass(cls, Stage):  # plain objects, not models or modules
            assert not issubclass(cls, (BasePreTaskModel, nn.Module)), cls
    for cls in compound_classes():
        if cls.__name__ in {'FusionDetector', 'FusionSegmentor',
                            'SceneDetector', 'SceneSegmentor',
                            'ChainDetector', 'ChainSegmentor'}:
            assert not cls.__abstractmethods__, cls


def test_no_compound_model_inherits_one_class_twice():
    """No diamond, no mixin: each compound model has one base, a model
    (FusionDetector: ChainDetector, ChainDetector: BasePreTaskModel)."""
    for cls in compound_classes():
        models = [b for b in cls.__bases__ if issubclass(b, BasePreTaskModel)]
        assert len(models) <= 1, (cls.__name__, models)
        if issubclass(cls, BasePreTaskModel) and cls is not BasePreTaskModel:
            assert cls.__bases__ == tuple(models), (cls.__name__,
                                                    cls.__bases__)


def test_no_naming_class_attributes():
    """The config names are the classes' arguments, not class data."""
    gone = ('pre_name', 'pre_attr', 'pre_losses_attr', 'pre_prefix',
            'pre_weight_key', 'pre_weight_arg', 'pre_weight_name',
            'pre_init_name', 'pre_freeze_arg', 'pre_auto_prefixes',
            'task_attr', 'task_scope', 'config_names')
    for cls in compound_classes():
        assert not [a for a in gone if hasattr(cls, a)], cls


def test_a_task_side_missing_a_method_cannot_be_built():

    class NoPredict(BasePreTaskModel):

        def _task_loss(self, task_inputs, data_samples):
            return {}

    with pytest.raises(TypeError, match='abstract method.*_task_predict'):
        NoPredict(stages=[], task=('demo', nn.Identity(), 'mmdet'),
                  task_input='vi')

    class Complete(NoPredict):

        def _task_predict(self, task_inputs, data_samples):
            return data_samples

    task = nn.Identity()
    model = Complete(stages=[], task=('demo', task, 'mmdet'),
                     task_input='vi')
    assert model.demo is model.task_model is task
