"""Load the command-line tools of the repository as modules (tests only:
scripts import the package, never each other) and list their options (the
docs test checks every option is documented)."""
import argparse
import importlib.util
import os.path as osp
from types import ModuleType
from typing import List, Tuple

#: the repository root (the folder holding ``mmfusenas/`` and ``tools/``)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

__all__ = ['REPO_ROOT', 'load_tool', 'tool_parser', 'tool_options',
           'tool_paths']


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


class _ParserCaught(Exception):
    """Raised to stop a tool once its parser is built."""


def tool_parser(path: str) -> argparse.ArgumentParser:
    """The ``ArgumentParser`` a tool's ``parse_args(argv)`` builds (caught
    before it parses anything)."""
    module = load_tool(path)
    if not hasattr(module, 'parse_args'):
        raise AttributeError(f'{path} has no parse_args(argv)')
    caught = {}

    def grab(self, *args, **kwargs):
        caught['parser'] = self
        raise _ParserCaught

    original = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = grab
    try:
        module.parse_args([])
    except _ParserCaught:
        pass
    finally:
        argparse.ArgumentParser.parse_args = original
    if 'parser' not in caught:
        raise RuntimeError(f'{path}: parse_args() built no ArgumentParser')
    return caught['parser']


def tool_options(path: str) -> List[Tuple[str, str, str]]:
    """``(sub-command, option strings, help)`` of every argument of a tool
    (positional arguments by name; sub-commands' arguments included)."""
    rows: List[Tuple[str, str, str]] = []

    def walk(parser: argparse.ArgumentParser, sub: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, name)
                continue
            names = ', '.join(action.option_strings) or action.dest
            rows.append((sub, names, ' '.join((action.help or '').split())))

    walk(tool_parser(path), '')
    return rows


def tool_paths() -> List[str]:
    """Every command-line tool of the repository (``tools/**/*.py`` with a
    ``parse_args``), relative to the repository root, sorted."""
    import glob
    found = []
    for full in sorted(glob.glob(osp.join(REPO_ROOT, 'tools', '**', '*.py'),
                                 recursive=True)):
        with open(full, encoding='utf-8') as f:
            if 'def parse_args(' in f.read():
                found.append(osp.relpath(full, REPO_ROOT))
    return found
