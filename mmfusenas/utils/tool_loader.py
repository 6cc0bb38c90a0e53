"""Load a script of the repository (``tools/``, ``benchmarks/``) as a
module, for the tools that reuse another script's functions."""
import importlib.util
import os.path as osp
from types import ModuleType

#: the repository root (the folder holding ``mmfusenas/`` and ``tools/``)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(path: str) -> ModuleType:
    """Import ``<repo>/<path>`` (e.g. ``'tools/fuse.py'``) as a module."""
    full = osp.join(REPO_ROOT, path)
    if not osp.isfile(full):
        raise FileNotFoundError(f'no such file in the repository: {full}')
    spec = importlib.util.spec_from_file_location(
        'tool_' + osp.splitext(path)[0].replace('/', '_'), full)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
