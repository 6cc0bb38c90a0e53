"""Every module runs on the lowest supported Python.

The floor is ``mmfusenas.version.PYTHON_MIN``; ``setup.py``, README's support
table and the import-time check of ``mmfusenas/__init__.py`` read or state
it. Tests run on one interpreter (3.11), so :func:`floor_violations` checks a
module's source against the floor statically:

- the grammar: ``ast.parse(src, feature_version=floor)`` (``match``,
  ``except*``, parenthesised context managers, ...);
- syntax that parses but fails when evaluated before the floor: PEP 604
  unions (``dict | None``) and builtin generics (``list[int]``) in annotations
  that Python evaluates at definition time (modules without ``from
  __future__ import annotations``), ``isinstance(x, A | B)``;
- standard-library modules, names and keywords newer than the floor
  (``tomllib``, ``typing.Self``, ``zip(strict=...)``, ...).
"""
import ast
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from mmfusenas.version import PYTHON_MIN

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ('mmfusenas', 'tools', 'benchmarks', 'configs', 'tests',
           'projects')

Version = Tuple[int, int]

# modules added to the standard library after 3.7
NEWER_MODULES: Dict[str, Version] = {
    'graphlib': (3, 9), 'zoneinfo': (3, 9), 'tomllib': (3, 11)}
# names added to standard-library modules after 3.7 (the ones code like ours
# reaches for)
NEWER_NAMES: Dict[str, Dict[str, Version]] = {
    'typing': {
        'Annotated': (3, 9), 'ParamSpec': (3, 10), 'Concatenate': (3, 10),
        'TypeAlias': (3, 10), 'TypeGuard': (3, 10), 'is_typeddict': (3, 10),
        'Self': (3, 11), 'LiteralString': (3, 11), 'Never': (3, 11),
        'assert_never': (3, 11), 'assert_type': (3, 11),
        'reveal_type': (3, 11), 'Required': (3, 11), 'NotRequired': (3, 11),
        'TypeVarTuple': (3, 11), 'Unpack': (3, 11),
        'dataclass_transform': (3, 11), 'override': (3, 12),
        'TypeAliasType': (3, 12), 'ReadOnly': (3, 13), 'TypeIs': (3, 13)},
    'functools': {'cache': (3, 9)},
    'math': {'lcm': (3, 9), 'nextafter': (3, 9), 'ulp': (3, 9),
             'cbrt': (3, 11), 'exp2': (3, 11)},
    'itertools': {'pairwise': (3, 10), 'batched': (3, 12)},
    'enum': {'StrEnum': (3, 11), 'ReprEnum': (3, 11), 'verify': (3, 11)},
    'datetime': {'UTC': (3, 11)},
    'contextlib': {'chdir': (3, 11), 'aclosing': (3, 10)},
    'hashlib': {'file_digest': (3, 11)},
    'operator': {'call': (3, 11)},
}
NEWER_BUILTINS: Dict[str, Version] = {
    'aiter': (3, 10), 'anext': (3, 10), 'EncodingWarning': (3, 10),
    'ExceptionGroup': (3, 11), 'BaseExceptionGroup': (3, 11)}
# keyword arguments added to builtins / decorators
NEWER_KEYWORDS: Dict[Tuple[str, str], Version] = {
    ('zip', 'strict'): (3, 10), ('dataclass', 'slots'): (3, 10),
    ('dataclass', 'kw_only'): (3, 10), ('dataclass', 'match_args'): (3, 10)}
BUILTIN_GENERICS = {'list', 'dict', 'tuple', 'set', 'frozenset', 'type'}


def _fmt(version: Version) -> str:
    return '.'.join(map(str, version))


def _evaluated_annotations(tree: ast.Module) -> Iterator[ast.expr]:
    """Annotations Python evaluates: those of function arguments and
    returns (at ``def`` time, nested functions included), and of variables
    outside functions (a local variable's annotation is never evaluated)."""

    def visit(node: ast.AST, in_function: bool) -> Iterator[ast.expr]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in (args.posonlyargs + args.args + args.kwonlyargs +
                        [a for a in (args.vararg, args.kwarg) if a]):
                if arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
            in_function = True
        elif isinstance(node, ast.AnnAssign) and not in_function:
            yield node.annotation
        for child in ast.iter_child_nodes(node):
            yield from visit(child, in_function)

    yield from visit(tree, False)


def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and node.module == '__future__'
        and any(alias.name == 'annotations' for alias in node.names)
        for node in tree.body)


def floor_violations(src: str, floor: Version,
                     filename: str = '<src>') -> List[str]:
    """What in ``src`` needs a Python newer than ``floor``.

    Returns:
        list[str]: one ``'file:line: what (needs X.Y)'`` per finding; empty
        when the module runs on ``floor``.
    """
    try:
        tree = ast.parse(src, filename=filename, feature_version=floor)
    except SyntaxError as err:
        return [f'{filename}:{err.lineno}: syntax newer than Python '
                f'{_fmt(floor)}: {err.msg}']
    found = []

    def add(node: ast.AST, what: str, needs: Version) -> None:
        if needs > floor:
            found.append(f'{filename}:{node.lineno}: {what} '
                         f'(needs Python {_fmt(needs)})')

    if not _has_future_annotations(tree):
        for annotation in _evaluated_annotations(tree):
            for node in ast.walk(annotation):
                if isinstance(node, ast.BinOp) and isinstance(
                        node.op, ast.BitOr):
                    add(node, 'PEP 604 union in an evaluated annotation',
                        (3, 10))
                elif (isinstance(node, ast.Subscript)
                      and isinstance(node.value, ast.Name)
                      and node.value.id in BUILTIN_GENERICS):
                    add(node, f'builtin generic {node.value.id}[...] in an '
                        'evaluated annotation', (3, 9))
    module_alias: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split('.')[0]
                if top in NEWER_MODULES:
                    add(node, f'import {alias.name}', NEWER_MODULES[top])
                module_alias[alias.asname or top] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.level == 0:
            top = node.module.split('.')[0]
            if top in NEWER_MODULES:
                add(node, f'from {node.module} import', NEWER_MODULES[top])
            for alias in node.names:
                needs = NEWER_NAMES.get(node.module, {}).get(alias.name)
                if needs:
                    add(node, f'{node.module}.{alias.name}', needs)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_alias):
            module = module_alias[node.value.id]
            needs = NEWER_NAMES.get(module, {}).get(node.attr)
            if needs:
                add(node, f'{module}.{node.attr}', needs)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                and node.id in NEWER_BUILTINS:
            add(node, f'builtin {node.id}', NEWER_BUILTINS[node.id])
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else None)
            for keyword in node.keywords:
                needs = NEWER_KEYWORDS.get((name, keyword.arg))
                if needs:
                    add(node, f'{name}({keyword.arg}=...)', needs)
            if name in ('isinstance', 'issubclass') and len(node.args) == 2 \
                    and isinstance(node.args[1], ast.BinOp) \
                    and isinstance(node.args[1].op, ast.BitOr):
                add(node, f'{name}(x, A | B)', (3, 10))
    return sorted(set(found))


def _python_files() -> List[Path]:
    files = [ROOT / 'setup.py']
    for folder in SCANNED:
        files += sorted((ROOT / folder).rglob('*.py'))
    return [f for f in files if '.mim' not in f.parts]


# ---------------------------------------------------------------- the tree


def test_every_module_runs_on_the_floor():
    files = _python_files()
    assert len(files) > 300  # the scan found the tree
    found = []
    for path in files:
        src = path.read_text(encoding='utf-8')
        found += floor_violations(src, PYTHON_MIN,
                                  str(path.relative_to(ROOT)))
    assert not found, (f'{len(found)} constructs need a Python newer than '
                       f'the floor {_fmt(PYTHON_MIN)} (mmfusenas/version.py '
                       'PYTHON_MIN):\n' + '\n'.join(found))


def test_metadata_states_the_floor():
    floor = _fmt(PYTHON_MIN)
    out = subprocess.run(
        [sys.executable, 'setup.py', '--classifiers'], cwd=ROOT,
        capture_output=True, text=True, check=True).stdout.splitlines()
    named = [line.rsplit(':: ', 1)[1] for line in out
             if re.fullmatch(r'Programming Language :: Python :: 3\.\d+',
                             line)]
    assert named and min(named, key=lambda v: tuple(map(int, v.split('.')))
                         ) == floor
    setup_src = (ROOT / 'setup.py').read_text()
    assert 'python_requires=python_requires()' in setup_src
    sys.path.insert(0, str(ROOT))
    try:
        import setup as setup_module
    finally:
        sys.path.remove(str(ROOT))
    assert setup_module.python_requires() == f'>={floor}'
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    row = re.search(r'^\| Python \|[^|]*\|([^|]*)\|', readme, re.M)
    assert row and f'≥ {floor}' in row.group(1), row
    # the torch the stack is tested with does not install below the floor
    from importlib.metadata import metadata
    requires = metadata('torch').get('Requires-Python', '')
    assert requires.replace(' ', '') == f'>={floor}' or not requires


def test_import_refuses_an_older_python(tmp_path):
    """``import mmfusenas`` under a too-old interpreter names the floor
    (the check runs before anything else is imported)."""
    script = (
        'import sys\n'
        f'sys.path.insert(0, {str(ROOT)!r})\n'
        'sys.version_info = (3, 9, 18, "final", 0)\n'
        'try:\n'
        '    import mmfusenas\n'
        'except ImportError as err:\n'
        '    print(err)\n'
        'print("mmcv imported:", "mmcv" in sys.modules)\n')
    out = subprocess.run([sys.executable, '-c', script], capture_output=True,
                         text=True, check=True).stdout
    assert f'needs Python>={_fmt(PYTHON_MIN)}, but Python' in out
    assert 'mmcv imported: False' in out


# ------------------------------------------------- the checker on snippets


@pytest.mark.parametrize('src, floor, expected', [
    ('def f(x: dict | None): pass\n', (3, 8),
     ['<src>:1: PEP 604 union in an evaluated annotation (needs Python '
      '3.10)']),
    ('def f() -> list[int]: pass\n', (3, 8),
     ['<src>:1: builtin generic list[...] in an evaluated annotation '
      '(needs Python 3.9)']),
    ('class A:\n    x: int | None = None\n', (3, 9),
     ['<src>:2: PEP 604 union in an evaluated annotation (needs Python '
      '3.10)']),
    ('ok = isinstance(1, int | float)\n', (3, 9),
     ['<src>:1: isinstance(x, A | B) (needs Python 3.10)']),
    ('import tomllib\n', (3, 10),
     ['<src>:1: import tomllib (needs Python 3.11)']),
    ('from typing import Self\n', (3, 10),
     ['<src>:1: typing.Self (needs Python 3.11)']),
    ('import enum\nclass A(enum.StrEnum): pass\n', (3, 10),
     ['<src>:2: enum.StrEnum (needs Python 3.11)']),
    ('pairs = list(zip(a, b, strict=True))\n', (3, 9),
     ['<src>:1: zip(strict=...) (needs Python 3.10)']),
    ('raise ExceptionGroup("x", [])\n', (3, 10),
     ['<src>:1: builtin ExceptionGroup (needs Python 3.11)']),
])
def test_checker_finds_a_planted_violation(src, floor, expected):
    assert floor_violations(src, floor) == expected


@pytest.mark.parametrize('src, floor', [
    ('match x:\n    case 1:\n        pass\n', (3, 9)),
    ('try:\n    pass\nexcept* ValueError:\n    pass\n', (3, 10)),
    ('with (open(a) as f, open(b) as g):\n    pass\n', (3, 8)),
])
def test_checker_finds_newer_grammar(src, floor):
    (finding, ) = floor_violations(src, floor)
    assert finding.startswith('<src>:') and \
        f'syntax newer than Python {_fmt(floor)}' in finding


@pytest.mark.parametrize('src, floor', [
    # the future import keeps annotations as strings: never evaluated
    ('from __future__ import annotations\n'
     'def f(x: dict | None) -> list[int]: pass\n', (3, 8)),
    # a local variable's annotation is never evaluated
    ('def f():\n    y: int | None = None\n    return y\n', (3, 8)),
    # on the floor itself these are fine
    ('def f(x: dict | None): pass\n', (3, 10)),
    ('pairs = list(zip(a, b, strict=True))\n', (3, 10)),
    # a union of values, not of types, in a call
    ('flags = f(a | b)\n', (3, 8)),
])
def test_checker_accepts_what_runs_on_the_floor(src, floor):
    assert floor_violations(src, floor) == []


def test_the_floor_rejects_the_tree_below_it():
    """The tree uses PEP 604 unions in evaluated annotations: one Python
    below the floor, the check fails (so the floor is where it is for a
    reason, and the check sees it)."""
    path = ROOT / 'mmfusenas' / 'search' / 'algorithms' / 'proxy_bilevel.py'
    found = floor_violations(path.read_text(encoding='utf-8'), (3, 9),
                             osp.join('mmfusenas', 'search', 'algorithms',
                                      'proxy_bilevel.py'))
    assert any('PEP 604 union' in f for f in found), found
