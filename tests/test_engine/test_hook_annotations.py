"""Every method of the package's hooks is type-annotated (arguments and
return), as mmdet's / MMEngine's hooks are."""
import inspect
from typing import List

import mmfusenas.engine  # noqa: F401  (registers the hooks)
import mmfusenas.search  # noqa: F401
from mmfusenas.registry import HOOKS


def unannotated(cls: type, package: str = 'mmfusenas') -> List[str]:
    """``'Class.method(arg)'`` / ``'Class.method -> ?'`` for every argument
    or return without an annotation, over the methods ``cls`` and its
    ``package`` bases define."""
    found = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith(package):
            continue
        for name, member in vars(klass).items():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if not inspect.isfunction(member):
                continue
            sig = inspect.signature(member)
            params = list(sig.parameters.values())
            if params and params[0].name in ('self', 'cls'):
                params = params[1:]
            found += [f'{klass.__name__}.{name}({p.name})' for p in params
                      if p.annotation is inspect.Parameter.empty]
            if sig.return_annotation is inspect.Signature.empty:
                found.append(f'{klass.__name__}.{name} -> ?')
    return sorted(set(found))


def our_hooks() -> List[type]:
    hooks = [cls for cls in HOOKS.module_dict.values()
             if cls.__module__.startswith('mmfusenas')]
    assert len(hooks) >= 12
    return hooks


def test_checker_finds_a_planted_missing_annotation():

    class Planted:

        def before_train(self, runner) -> None:
            pass

        def scale(self, x: int):
            return x

    Planted.__module__ = __name__
    assert unannotated(Planted, package=__name__) == [
        'Planted.before_train(runner)', 'Planted.scale -> ?']


def test_every_hook_method_is_annotated():
    missing = []
    for cls in our_hooks():
        missing += unannotated(cls)
    assert missing == []
