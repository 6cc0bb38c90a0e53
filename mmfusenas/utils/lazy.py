"""Package attributes imported on first use (PEP 562), so that importing a
package does not import every heavy dependency of its modules."""
import importlib
import importlib.util
from typing import Callable, Dict, Iterable


def lazy_exports(package: str,
                 exports: Dict[str, Iterable[str]]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` (its ``__name__``) serving
    ``exports``, ``{relative module: names}``, and the submodules."""
    where = {name: module for module, names in exports.items()
             for name in names}

    def __getattr__(name: str):
        if name in where:
            return getattr(importlib.import_module(where[name], package),
                           name)
        if importlib.util.find_spec(f'{package}.{name}') is not None:
            return importlib.import_module(f'{package}.{name}')  # submodule
        raise AttributeError(f'module {package!r} has no attribute {name!r}')

    return __getattr__
