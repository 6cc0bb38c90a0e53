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
from mmfusenas.models.compound import (BaseFusionTaskModel,
                                       BasePreTaskModel, BaseSceneTaskModel)

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
    assert len(classes) >= 11
    return classes


@pytest.mark.parametrize('cls', compound_classes(),
                         ids=lambda c: c.__name__)
def test_every_public_method_is_defined_as_text(cls):
    assert undefined_members(cls) == []


def test_the_accessors_under_each_kinds_names():
    for cls, name in ((BaseFusionTaskModel, 'fusion'),
                      (BaseSceneTaskModel, 'scene')):
        for member in (f'{name}_loss_weight', f'{name}_frozen',
                       f'set_{name}_frozen'):
            assert member in vars(cls), (cls.__name__, member)


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
    for cls in (BaseFusionTaskModel, BaseSceneTaskModel):
        assert not issubclass(cls, BasePreTaskModel)  # a side, not a model
    for cls in compound_classes():
        if cls.__name__ in {'FusionDetector', 'FusionSegmentor',
                            'SceneDetector', 'SceneSegmentor',
                            'ChainDetector', 'ChainSegmentor'}:
            assert not cls.__abstractmethods__, cls


def test_no_compound_model_inherits_one_class_twice():
    """No diamond: one base of each compound model is a model (its task
    side); the fusion / scene side is a plain class before it."""
    for cls in compound_classes():
        models = [b for b in cls.__bases__ if issubclass(b, BasePreTaskModel)]
        assert len(models) <= 1, (cls.__name__, models)


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

    chain = dict(type='PreModuleChain', stages=[])
    with pytest.raises(TypeError, match='abstract method.*_task_predict'):
        NoPredict(chain_net=chain, task=('demo', nn.Identity(), 'mmdet'),
                  task_input='vi')

    class Complete(NoPredict):

        def _task_predict(self, task_inputs, data_samples):
            return data_samples

    task = nn.Identity()
    model = Complete(chain_net=chain, task=('demo', task, 'mmdet'),
                     task_input='vi')
    assert model.demo is model.task_model is task
