"""``register_all_modules``, the OpenMMLab entry point of a scope, and
:func:`temporary_environment` (environment variables for a block)."""
import contextlib
import datetime
import os
import warnings
from typing import Iterator, Mapping

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers into the ``mmfusenas`` registries.

    MMEngine calls ``mmfusenas.utils.register_all_modules(False)`` for a
    registry of scope ``mmfusenas`` without ``locations`` (``mmfusenas`` is
    a known config package, registered by ``import mmfusenas``), as for
    mmdet / mmseg. The imports happen inside the function, so ``utils``
    does not depend on the upper layers at import time.

    Args:
        init_default_scope (bool): also make ``mmfusenas`` the default
            scope (a new ``DefaultScope`` instance when another scope is
            current). Defaults to True.
    """
    import mmfusenas.datasets  # noqa: F401,F811
    import mmfusenas.engine  # noqa: F401,F811
    import mmfusenas.evaluation.metrics  # noqa: F401,F811
    import mmfusenas.models  # noqa: F401,F811
    import mmfusenas.search  # noqa: F401,F811
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created(
            'mmfusenas'):
        DefaultScope.get_instance('mmfusenas', scope_name='mmfusenas')
        return
    if current.scope_name != 'mmfusenas':
        warnings.warn(f'the current default scope {current.scope_name!r} is '
                      "not 'mmfusenas'; register_all_modules creates a new "
                      'default scope')
        name = f'mmfusenas-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmfusenas')


@contextlib.contextmanager
def temporary_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set the environment variables ``env`` for the block; restore each
    one's earlier value (or its absence) after it, also on an exception.

    Benchmarks use it to run a variant with other environment variables
    (the kernel switches are no environment variables: see
    :func:`cpu_kernels.switches.cpu_kernels` for those).

    Args:
        env (Mapping[str, str]): names and values.
    """
    old = {key: os.environ.get(key) for key in env}
    try:
        os.environ.update({key: str(value) for key, value in env.items()})
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
