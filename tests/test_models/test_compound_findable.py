"""The compound models' methods exist as text.

Every public method / property of a compound model is defined with
``def <name>`` in the source of the class that owns it (none is generated
with ``setattr``), and the template methods are abstract: a class that
misses one cannot be built.
"""
import inspect
import re
from typing import List

import pytest
import torch.nn as nn

import mmfusenas.models.compound as compound
from mmfusenas.models.compound import (BaseChainTaskModel,
                                       BaseFusionTaskModel, BasePreTaskModel,
                                       BaseSceneTaskModel)

PRE_KINDS = (BaseFusionTaskModel, BaseSceneTaskModel, BaseChainTaskModel)
TEMPLATE_METHODS = {'_run_pre', '_task_image', '_pre_losses', '_attach_pre',
                    '_task_loss', '_task_predict'}


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


def test_the_accessors_under_each_kinds_names():
    for cls in PRE_KINDS:
        name = cls.pre_name
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


def test_names_of_each_pre_module_kind_follow_its_pre_name():
    for cls in PRE_KINDS:
        n, key = cls.pre_name, cls.pre_weight_key
        assert (cls.pre_attr, cls.pre_losses_attr, cls.pre_prefix,
                cls.pre_weight_arg, cls.pre_weight_name, cls.pre_init_name,
                cls.pre_freeze_arg) == (
                    f'{n}_net', f'{n}_losses', f'{n}.', f'{n}_loss_weight',
                    f'{n}_loss_weight ({key})', f'{n}_init', f'freeze_{n}')


def test_template_methods_are_abstract():
    assert BasePreTaskModel.__abstractmethods__ == TEMPLATE_METHODS
    # the pre-module kinds implement their side, the task mixins the other
    for cls in PRE_KINDS:
        assert cls.__abstractmethods__ == {'_task_loss', '_task_predict'}
    for cls in compound_classes():
        if cls.__name__ in {'FusionDetector', 'FusionSegmentor',
                            'SceneDetector', 'SceneSegmentor',
                            'ChainDetector', 'ChainSegmentor'}:
            assert not cls.__abstractmethods__, cls


def test_a_kind_missing_a_template_method_cannot_be_built():

    class NoAttach(compound.DetTaskMixin, BasePreTaskModel):
        pre_name = 'demo'
        pre_attr = 'demo_net'
        pre_losses_attr = 'demo_losses'

        def _run_pre(self, inputs):
            return inputs

        def _task_image(self, pre_out, data_samples):
            return pre_out

        def _pre_losses(self, pre_out, inputs):
            return {}

    with pytest.raises(TypeError, match='abstract method.*_attach_pre'):
        NoAttach(pre_net=nn.Identity(), task_model=nn.Identity())

    class Complete(NoAttach):

        def _attach_pre(self, samples, pre_out):
            pass

    pre_net = nn.Identity()
    model = Complete(pre_net=pre_net, task_model=nn.Identity(),
                     data_preprocessor=dict(type='BaseDataPreprocessor'))
    assert model.demo_net is model.pre_net is pre_net
    assert isinstance(model.detector, nn.Identity)
