"""``register_all_modules``, the OpenMMLab entry point of a scope."""
from mmengine.registry import utils as registry_utils


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers into the ``mmfusenas`` registries
    (inside the function: ``utils`` imports no upper layer), as mmdet's,
    and make ``mmfusenas`` the default scope unless told not to."""
    import mmfusenas.datasets  # noqa: F401,F811
    import mmfusenas.engine  # noqa: F401,F811
    import mmfusenas.evaluation.metrics  # noqa: F401,F811
    import mmfusenas.models  # noqa: F401,F811
    import mmfusenas.search  # noqa: F401,F811
    if init_default_scope:
        registry_utils.init_default_scope('mmfusenas')
