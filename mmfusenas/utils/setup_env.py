"""``register_all_modules``, the OpenMMLab entry point of a scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers into the ``mmfusenas`` registries
    (inside the function: ``utils`` imports no upper layer), as mmdet's.

    Args:
        init_default_scope (bool): also make ``mmfusenas`` the default
            scope. Defaults to True.
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
