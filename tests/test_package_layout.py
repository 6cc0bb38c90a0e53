"""The house: imports run one way and no room imports another in a circle.

Layers, lowest first: ``registry`` / ``utils`` / ``version`` →
``structures`` → ``models`` / ``datasets`` / ``evaluation`` /
``visualization`` → ``search`` → ``engine`` → ``apis`` / ``benchmark`` →
the package root / ``testing``. A module may import from its own layer or
below, never above; and the sub-rooms (``mmfusenas.models.cells``,
``mmfusenas.models.mutables``, ...) form no import circle. Read from the
source with ``ast`` (no import side effects).

``engine`` sits above ``search`` as MMRazor's ``engine`` sits above its
``models`` (algorithms, mutables): the runner, loops, hooks and
optimizer-wrapper constructors drive the search algorithms, strategies and
estimators, never the other way round. The CPU kernels are the opt-in
plugin ``projects/cpu_kernels``, outside the package, as mmcv's ops sit
outside the models that use them: the package never imports it, model code
is plain PyTorch and never imports numba or reads the environment
(:func:`test_models_are_plain_pytorch`), and numba is imported by the metric
kernels only (:func:`test_no_speed_layer_in_the_package`). ``testing`` holds
what the tests, tools and benchmarks share (the toy-data generators, the
gloo launcher, metric oracles), as ``mmdet.testing`` does: it sits on top,
and no other module of the package imports it
(:func:`test_testing_is_imported_by_no_other_room`). Scripts import the
package as installed, never edit ``sys.path``
(:func:`test_scripts_import_the_package_without_path_edits`).

One deliberate exception: ``mmfusenas.utils.setup_env.register_all_modules``
imports every room inside the function (MMEngine's convention: a registry
without ``locations`` calls ``<scope>.utils.register_all_modules``).
"""
import ast
import functools
import glob
import os
import os.path as osp
import re
from typing import Dict, List, Set

PACKAGE = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'mmfusenas')
LAYERS = {
    'registry': 0, 'utils': 0, 'version': 0, 'structures': 1, 'models': 2,
    'datasets': 2, 'evaluation': 2, 'visualization': 2, 'search': 3,
    'engine': 4, 'apis': 5, 'benchmark': 5, '': 6, 'testing': 6
}
#: modules allowed to import upwards, with the reason in the docstring
EXEMPT = ('mmfusenas.utils.setup_env', )


def package_modules():
    """``(module, package it sits in, path)`` of every module of
    mmfusenas (a package's ``__init__`` is the package itself)."""
    root = osp.dirname(PACKAGE)
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                module = osp.relpath(path, root)[:-3].replace(os.sep, '.')
                package = module.rsplit('.', 1)[0]
                if name == '__init__.py':
                    module = package
                yield module, package, path


def import_targets(tree, package: str):
    """``(module, imported names)`` of every import statement of ``tree``,
    relative imports resolved against ``package``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] +
                                ([base] if base else []))
            yield base, [alias.name for alias in node.names]


def _parse(path: str):
    with open(path, encoding='utf-8') as f:
        return ast.parse(f.read(), path)


def module_imports() -> Dict[str, Set[str]]:
    """``{module: {mmfusenas modules it imports}}`` for the package (a
    fresh dict of the sets read once per process: the package is parsed
    once for the four checks that read it)."""
    return {module: set(deps) for module, deps in _module_imports().items()}


@functools.lru_cache(maxsize=None)
def _module_imports() -> Dict[str, frozenset]:
    # the sets, not the syntax trees, are kept: millions of live tree
    # nodes would slow down every later garbage collection of the process
    return {
        module: frozenset(target for target, _ in import_targets(
            _parse(path), package) if target.startswith('mmfusenas'))
        for module, package, path in package_modules()
    }


def room(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_imports_only_go_down_the_layers():
    upward = [(m, d) for m, deps in module_imports().items() for d in deps
              if LAYERS.get(room(d), 99) > LAYERS.get(room(m), 99)
              and m not in EXEMPT]
    assert not upward, f'modules importing from a higher layer: {upward}'
    assert all(room(m) in LAYERS for m in module_imports()), \
        'a new top-level room needs a place in LAYERS'


def test_testing_is_imported_by_no_other_room():
    """``mmfusenas.testing`` (as ``mmdet.testing``) holds what the tests,
    the tools ``tools/misc/make_toy_*.py``, the benchmarks and the
    reproductions share: the toy-data generators (``testing.toy_data``), the
    gloo launcher, small model configs and the metric oracles. No other
    room of the package imports it (it sits on the top layer), and
    importing it loads none of its modules. What only the tests use stays
    in ``tests/helpers`` (imported as ``helpers``)."""
    root = osp.dirname(PACKAGE)
    assert osp.isfile(osp.join(PACKAGE, 'testing', 'toy_data', '__init__.py'))
    assert not osp.exists(osp.join(PACKAGE, 'toy_data'))
    assert not osp.exists(osp.join(root, 'tools', 'misc', 'toy_data'))
    assert osp.isfile(osp.join(root, 'tests', 'helpers', '__init__.py'))
    assert not [(m, d) for m, deps in module_imports().items() for d in deps
                if room(d) == 'testing' and room(m) != 'testing']
    with open(osp.join(PACKAGE, 'testing', '__init__.py')) as f:
        tree = ast.parse(f.read())
    assert not list(import_targets(tree, 'mmfusenas.testing'))


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_between_rooms():

    def sub_room(module):
        return '.'.join(module.split('.')[:3])

    graph: Dict[str, Set[str]] = {}
    for module, deps in module_imports().items():
        for dep in deps:
            if sub_room(dep) != sub_room(module):
                graph.setdefault(sub_room(module), set()).add(sub_room(dep))
    assert not _cycles(graph), f'import circles: {_cycles(graph)}'


def test_no_import_circle_between_modules():
    """No two modules (package ``__init__`` files aside, which gather their
    room's names) import each other, directly or round a longer loop, at
    module level or inside a function."""
    graph = module_imports()
    root = osp.dirname(PACKAGE)
    modules = {
        m for m in graph
        if not osp.isdir(osp.join(root, *m.split('.')))
    }
    edges = {m: {d for d in graph[m] if d in modules} for m in modules}
    assert not _cycles(edges), f'import circles: {_cycles(edges)}'


def test_the_checker_sees_a_circle():
    assert _cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [
        ['a', 'b', 'c']
    ]


def _trees(folder: str):
    """``(path, ast)`` of every module under ``folder``."""
    for sub, _, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith('.py'):
                path = osp.join(sub, name)
                yield path, _parse(path)


def _imported_roots(tree) -> Set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            roots.add((node.module or '').split('.')[0])
    return roots


#: the one module of the package that may import numba: FMI's kernel
NUMBA_MODULES = ('evaluation/functional/fmi_kernel.py', )


def test_no_speed_layer_in_the_package():
    """The CPU kernels, their switches and the allocator tuning live in the
    plugin ``projects/cpu_kernels``: the package has no ``cpu_ops``, never
    imports the plugin, and only FMI's kernel imports numba."""
    assert not osp.exists(osp.join(PACKAGE, 'cpu_ops'))
    for name in ('cpu_kernels.py', 'cpu_allocator.py'):
        assert not osp.exists(osp.join(PACKAGE, 'utils', name))
    for path, tree in _trees(PACKAGE):
        rel = osp.relpath(path, PACKAGE)
        roots = _imported_roots(tree)
        assert 'cpu_kernels' not in roots, f'{rel} imports the plugin'
        assert 'numba' not in roots or rel in NUMBA_MODULES, \
            f'{rel} imports numba'


def test_the_plugin_is_imported_only_when_asked_for():
    """Importing every room of the package loads neither the plugin nor
    numba; ``optimize='cpu_kernels'`` imports the plugin by the name the
    user gave (as a config's ``custom_imports`` does), and the plugin
    registers its optimisation: no module of the package names it."""
    import subprocess
    import sys

    # one process (importing mmdet and mmseg takes seconds), the plugin on
    # its path from the start, as the user puts it: being importable does
    # not import it; asking for it by name does
    code = ('import sys; import mmfusenas; '
            'from mmfusenas.utils import register_all_modules; '
            'register_all_modules(); import mmfusenas.apis; '
            "print(sorted(m for m in ('cpu_kernels', 'numba') "
            'if m in sys.modules)); '
            'from mmfusenas.apis import deploy; import torch; '
            "deploy.optimize_for_inference(torch.nn.Conv2d(1, 1, 3).eval(), "
            "'cpu_kernels', verbose=False); "
            "print('cpu_kernels' in sys.modules, "
            'sorted(deploy.PLUGIN_OPTIMIZATIONS))')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [osp.join(osp.dirname(PACKAGE), 'projects', 'cpu_kernels'),
         osp.dirname(PACKAGE)]))
    out = subprocess.run([sys.executable, '-c', code], check=True, env=env,
                         capture_output=True, text=True,
                         cwd=osp.dirname(PACKAGE)).stdout
    assert out.strip().splitlines()[-2:] == ['[]', "True ['cpu_kernels']"]


def test_the_fusion_evaluator_needs_neither_mmdet_nor_mmcv(tmp_path):
    """``eval_fusion.py --help``, and scoring a pair with the default and
    the ivif_zoo presets, import none of mmdet, mmcv and mmseg (they take
    seconds to import; the evaluator needs none of them), and ``--help``
    not even torch or numba."""
    import subprocess
    import sys

    import cv2
    import numpy as np
    rng = np.random.default_rng(0)
    for d in ('ir', 'vi', 'fused'):
        (tmp_path / d).mkdir()
        cv2.imwrite(str(tmp_path / d / 'p.png'),
                    rng.integers(0, 256, (24, 32), dtype=np.uint8))
    tool = osp.join(osp.dirname(PACKAGE), 'tools', 'analysis_tools',
                    'eval_fusion.py')
    heavy = ('mmdet', 'mmcv', 'mmseg', 'torch', 'numba')
    dirs = [str(tmp_path / d) for d in ('ir', 'vi', 'fused')]
    runs = [['--help']] + [dirs + ['--preset', preset]
                           for preset in ('cddfuse', 'ivif_zoo')]
    # the three runs one after the other in one process (a process per
    # run imported torch twice: seconds), the modules loaded so far printed
    # after each run: a module not loaded then was loaded by no run so far
    code = ('import runpy, sys\n'
            'for args in {runs!r}:\n'
            '    sys.argv = [{tool!r}] + args\n'
            '    try:\n'
            '        runpy.run_path({tool!r}, run_name="__main__")\n'
            '    except SystemExit:\n'
            '        pass\n'
            '    print("loaded:", sorted(m for m in {heavy!r} '
            'if m in sys.modules))')
    code = code.format(tool=tool, runs=runs, heavy=heavy)
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True).stdout
    loaded = [line[len('loaded: '):] for line in out.splitlines()
              if line.startswith('loaded: ')]
    assert len(loaded) == 3 and loaded[0] == '[]'  # --help
    for preset, line in zip(('cddfuse', 'ivif_zoo'), loaded[1:]):
        assert not {'mmdet', 'mmcv', 'mmseg'} & set(eval(line)), \
            (preset, line)


def _modules_named(path: str, package: str,
                   used_names: Set[str]) -> Set[str]:
    """Modules of mmfusenas that ``path`` imports (``from x import y``
    counts ``x`` and ``x.y``; an entry ``'.mod': [names]`` of a lazy export
    table counts ``package.mod`` only if one of its names is in
    ``used_names``)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    found = {package + key
             for key, names in re.findall(r"'(\.\w+)':\s*\[([^]]*)\]", text)
             if set(re.findall(r"'(\w+)'", names)) & used_names}
    for target, names in import_targets(ast.parse(text, path), package):
        found.add(target)
        found.update(f'{target}.{name}' for name in names)
    return {m for m in found if m.startswith('mmfusenas')}


def test_every_module_serves_users():
    """Every module of the package is imported by another of its modules, a
    tool, a config, a demo or a project (through a lazy export table only
    if one of the names it exports there is used by one of those): nothing
    in mmfusenas/ is there only for the tests or the benchmarks (those
    helpers live in tests/helpers), ``mmfusenas.testing`` aside, whose
    modules serve the tests and the benchmarks too (each is imported by one
    of them, a tool or a project)."""
    root = osp.dirname(PACKAGE)
    files = {path: package for _, package, path in package_modules()}
    for folder in ('tools', 'configs', 'demo', 'projects'):
        for path in glob.glob(osp.join(root, folder, '**', '*.py'),
                              recursive=True):
            parts = osp.relpath(path, root).split(os.sep)
            if not {'tests', 'benchmarks'} & set(parts):
                files[path] = ''
    used_names: Set[str] = set()
    for path in files:
        if osp.basename(path) != '__init__.py' or not path.startswith(
                PACKAGE):
            with open(path, encoding='utf-8') as f:
                used_names |= set(re.findall(r'\w+', f.read()))
    users: Set[str] = set()
    for path, package in files.items():
        users |= _modules_named(path, package, used_names)
    for folder in ('benchmarks', 'tests'):
        for path in glob.glob(osp.join(root, folder, '**', '*.py'),
                              recursive=True):
            users |= {m for m in _modules_named(path, '', used_names)
                      if room(m) == 'testing'}
    modules = {module for module, _, _ in package_modules()}
    unused = sorted(m for m in modules if m not in users and not any(
        u.startswith(m + '.') for u in users))
    assert unused == [], ('imported by no module, tool, config, demo or '
                          'project (move it to tests/helpers or '
                          f'benchmarks): {unused}')


def test_models_are_plain_pytorch():
    """No module under ``mmfusenas/models`` imports numba or reads the
    environment."""
    for path, tree in _trees(osp.join(PACKAGE, 'models')):
        assert 'numba' not in _imported_roots(tree), path
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert not (node.attr in ('environ', 'getenv')
                            and isinstance(node.value, ast.Name)
                            and node.value.id == 'os'), \
                    f'{path}:{node.lineno} reads the environment'


def test_few_environment_variables():
    """At most three ``MMFUSENAS_*`` variables in the package, each named
    in the docs."""
    import re
    names = set()
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                with open(osp.join(folder, name), encoding='utf-8') as f:
                    names.update(re.findall(r'MMFUSENAS_[A-Z0-9_]+',
                                            f.read()))
    assert len(names) <= 3, sorted(names)
    docs = osp.join(osp.dirname(PACKAGE), 'docs')
    text = ''
    for folder, _, files in os.walk(docs):
        for name in files:
            if name.endswith('.md'):
                with open(osp.join(folder, name), encoding='utf-8') as f:
                    text += f.read()
    assert all(n in text for n in names), sorted(n for n in names
                                                 if n not in text)


STACK = ('mmengine', 'mmdet', 'mmseg', 'mmcv')


@functools.lru_cache(maxsize=None)
def _stack_private_names() -> frozenset:
    """Single-underscore names MMEngine, mmdet and mmseg define (methods,
    class attributes, ``self._x = ...`` state) and the package does not.
    Computed once per process: it parses every source file of the three
    libraries (seconds), which do not change while the tests run."""
    import importlib.util
    names: Set[str] = set()
    for lib in STACK[:3]:
        folder = osp.dirname(importlib.util.find_spec(lib).origin)
        for _, tree in _trees(folder):
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(
                        node.ctx, ast.Store):
                    names.add(node.attr)
                elif isinstance(node, ast.Name) and isinstance(
                        node.ctx, ast.Store):
                    names.add(node.id)
    ours: Set[str] = set()
    for _, tree in _trees(PACKAGE):
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(
                    node.ctx, ast.Store) and isinstance(
                        node.value, ast.Name) and node.value.id == 'self':
                ours.add(node.attr)
    return frozenset(n for n in names - ours
                     if n.startswith('_') and not n.startswith('__'))


def _imported_names(node) -> List[str]:
    """``module.name`` of each name an absolute import statement binds."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level:
        return [f'{node.module}.{a.name}' for a in node.names]
    return []


def _stack_bases(tree) -> Dict[str, type]:
    """The classes a module imports from the stack, by local name."""
    import importlib
    bases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and \
                node.module.split('.')[0] in STACK:
            for alias in node.names:
                obj = getattr(importlib.import_module(node.module),
                              alias.name, None)
                if isinstance(obj, type):
                    bases[alias.asname or alias.name] = obj
    return bases


def mmengine_internals_used(folder: str) -> List[str]:
    """``path:line what`` of every import of ``unittest.mock`` (or
    ``mock``) or of a private name of the stack; every read of a private
    attribute MMEngine / mmdet / mmseg define on anything but ``self`` /
    ``cls`` (``runner._train_loop``, ``MODELS._module_dict``, ...) or
    through ``super()``; and every override of a private method of a stack
    class."""
    private, found = _stack_private_names(), []
    for path, tree in _trees(folder):
        rel = osp.relpath(path, folder)
        bases = _stack_bases(tree)
        for node in ast.walk(tree):
            found += [(rel, node.lineno, f'imports {name}')
                      for name in _imported_names(node)
                      if name.split('.')[0] == 'mock'
                      or name.startswith('unittest.mock') or
                      name.split('.')[0] in STACK
                      and name.rsplit('.', 1)[-1].startswith('_')]
            if isinstance(node, ast.Attribute) and node.attr in private \
                    and not (isinstance(node.value, ast.Name)
                             and node.value.id in ('self', 'cls')):
                found.append((rel, node.lineno, f'reads .{node.attr}'))
            if isinstance(node, ast.ClassDef):
                parents = [bases[b.id] for b in node.bases
                           if isinstance(b, ast.Name) and b.id in bases]
                found += [(rel, item.lineno, f'overrides {item.name}')
                          for item in node.body
                          if isinstance(item, ast.FunctionDef)
                          and item.name.startswith('_')
                          and not item.name.startswith('__')
                          and any(hasattr(c, item.name) for c in parents)]
    return [f'{rel}:{line} {what}' for rel, line, what in sorted(found)]


#: where the package still reaches into MMEngine (each to go; the test
#: fails when one is gone, so the list only shrinks)
KNOWN_INTERNALS = {
    # BaseInferencer._inputs_to_list, its documented override point
    'apis/inferencer.py': 1,
    # nn.Module._load_from_state_dict, torch's key-migration point (as
    # BatchNorm's version migration): checkpoints of the chain_net layout
    'models/compound/base_pre_task_model.py': 1,
    'utils/checkpoint.py': 1,  # a state dict's torch _metadata
}


def test_mmengine_is_used_through_its_public_api():
    """Production code patches nothing with ``unittest.mock``, and reads,
    imports or overrides no private attribute of MMEngine, mmdet or mmseg
    objects (``runner._train_loop``, ``reg._search_child``,
    ``cfg._format_python_code``, ...): the public API survives an mmengine
    upgrade. :data:`KNOWN_INTERNALS` lists what is left, by file."""
    used: Dict[str, List[str]] = {}
    for entry in mmengine_internals_used(PACKAGE):
        used.setdefault(entry.split(':')[0], []).append(entry)
    assert {f: len(v) for f, v in used.items()} == KNOWN_INTERNALS, used


#: the folders whose scripts and modules must not edit ``sys.path``
PATH_EDIT_FOLDERS = ('tools', 'demo', 'benchmarks', 'projects', 'mmfusenas')
#: the path edits kept, each with its reason
PATH_EDITS_KEPT = {
    # IVIF_ZOO's metric scripts (a checkout the user names) import each
    # other by top-level name, as when run from their own folder
    'mmfusenas/testing/ivif_zoo_reference.py': 1,
}


def path_edits(tree) -> List[int]:
    """Lines of ``tree`` that change ``sys.path``: a call of a mutating
    method (``sys.path.insert(...)``, ``.append``, ``.extend``, ...), an
    assignment to it or to an item or slice of it (``sys.path = [...]``,
    ``sys.path[:0] = [...]``, ``sys.path += [...]``) or its deletion.
    Reading it is no edit."""

    def is_sys_path(node) -> bool:
        if isinstance(node, ast.Subscript):
            node = node.value
        return (isinstance(node, ast.Attribute) and node.attr == 'path'
                and isinstance(node.value, ast.Name)
                and node.value.id == 'sys')

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(
                node.func, ast.Attribute) and node.func.attr in (
                    'insert', 'append', 'extend', 'remove', 'pop', 'clear',
                    '__setitem__', '__iadd__') and is_sys_path(
                        node.func.value):
            lines.append(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign,
                               ast.Delete)):
            targets = node.targets if isinstance(
                node, (ast.Assign, ast.Delete)) else [node.target]
            flat = [t for target in targets for t in (
                target.elts if isinstance(target, (ast.Tuple, ast.List))
                else [target])]
            if any(is_sys_path(t) for t in flat):
                lines.append(node.lineno)
    return sorted(lines)


def test_the_path_edit_checker_sees_every_form():
    edits = (
        'import sys\n'
        'sys.path.insert(0, "x")\n'                   # 2
        'sys.path.append(HERE)\n'                     # 3
        'sys.path.extend(["a", "b"])\n'               # 4
        'sys.path = ["a"] + sys.path\n'               # 5
        'sys.path += ["a"]\n'                         # 6
        'sys.path[:0] = ["a"]\n'                      # 7
        'a, sys.path = 1, []\n'                       # 8
        'def f():\n'
        '    if True:\n'
        '        sys.path.insert(0, "x")\n'           # 11
        'del sys.path[0]\n')                          # 12
    assert path_edits(ast.parse(edits)) == [2, 3, 4, 5, 6, 7, 8, 11, 12]
    reads = (
        'import os, sys\n'
        'first = sys.path[0]\n'
        'found = [p for p in sys.path if p]\n'
        'env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))\n'
        'path = []\npath.insert(0, "x")\n'
        'os.path.join("a", "b")\n'
        'text = "sys.path.insert(0, x)"\n'
        'spec.loader.exec_module(module)\n')
    assert path_edits(ast.parse(reads)) == []


def test_scripts_import_the_package_without_path_edits():
    """The tools, demos, benchmarks, projects and the package import
    MMFuseNAS as installed and their plugins from the path the user sets
    (``PYTHONPATH=projects/cpu_kernels``, as the plugin's README says): no
    module edits ``sys.path`` (a script's own folder is on it already), but
    :data:`PATH_EDITS_KEPT`. The tests may (``tests/conftest.py``)."""
    root = osp.dirname(PACKAGE)
    edits: Dict[str, List[int]] = {}
    for folder in PATH_EDIT_FOLDERS:
        for path, tree in _trees(osp.join(root, folder)):
            lines = path_edits(tree)
            if lines:
                edits[osp.relpath(path, root).replace(os.sep, '/')] = lines
    assert {f: len(v) for f, v in edits.items()} == PATH_EDITS_KEPT, edits


def test_the_train_tool_is_short():
    """``tools/train.py`` keeps mmdet's shape: parsing, the config and
    ``Runner.from_cfg``; what it needs beyond that lives in the package."""
    with open(osp.join(osp.dirname(PACKAGE), 'tools', 'train.py')) as f:
        assert len(f.read().splitlines()) <= 150


def module_getattr_users(folder: str) -> List[str]:
    """The modules under ``folder`` defining a module-level ``__getattr__``
    (a function, or a name bound to one)."""
    users = []
    for path, tree in _trees(folder):
        for node in tree.body:
            names = [node.name] if isinstance(node, ast.FunctionDef) else [
                t.id for t in getattr(node, 'targets', ())
                if isinstance(t, ast.Name)]
            if '__getattr__' in names:
                users.append(osp.relpath(path, folder).replace(os.sep, '/'))
    return users


def test_exports_are_plain_imports(tmp_path):
    """No module of the package serves names through a module
    ``__getattr__`` (lazy exports defeat go-to-definition); the checker
    sees both forms."""
    assert module_getattr_users(PACKAGE) == []
    (tmp_path / 'a.py').write_text('def __getattr__(name):\n    pass\n')
    (tmp_path / 'b.py').write_text('__getattr__ = print\n')
    (tmp_path / 'c.py').write_text('def f():\n    pass\n')
    assert module_getattr_users(str(tmp_path)) == ['a.py', 'b.py']


def test_no_script_loads_another_by_path():
    """Code two scripts share lives in the package: no tool, demo,
    benchmark, project or package module calls ``load_tool`` (the tests
    keep one in ``tests/helpers`` to call the scripts' functions)."""
    root = osp.dirname(PACKAGE)
    users = []
    for folder in ('tools', 'demo', 'benchmarks', 'projects', 'mmfusenas'):
        for path in glob.glob(osp.join(root, folder, '**', '*.py'),
                              recursive=True):
            with open(path, encoding='utf-8') as f:
                if re.search(r'\bload_tool\b', f.read()):
                    users.append(osp.relpath(path, root))
    assert users == []


def test_the_internals_checker_sees_mock_and_private_reads(
        tmp_path):
    (tmp_path / 'bad.py').write_text(
        'from unittest import mock\nimport unittest.mock\n'
        'from unittest.mock import patch\n'
        'reg = MODELS._search_child("mmdet")\nMODELS._module_dict.clear()\n'
        'self._name = cls._scope = 1\n'
        'from mmengine.runner import Runner\n'
        'from mmengine.runner.checkpoint import _load_checkpoint\n'
        'class R(Runner):\n'
        '    def _init_model_weights(self):\n'
        '        super()._init_model_weights()\n'
        '        return runner._has_loaded, runner._train_loop\n')
    assert mmengine_internals_used(str(tmp_path)) == [
        'bad.py:1 imports unittest.mock', 'bad.py:2 imports unittest.mock',
        'bad.py:3 imports unittest.mock.patch',
        'bad.py:4 reads ._search_child', 'bad.py:5 reads ._module_dict',
        'bad.py:8 imports mmengine.runner.checkpoint._load_checkpoint',
        'bad.py:10 overrides _init_model_weights',
        'bad.py:11 reads ._init_model_weights',
        'bad.py:12 reads ._has_loaded',
        'bad.py:12 reads ._train_loop'
    ]


#: the most lines a module docstring may take, from the opening to the
#: closing quotes: what the module is for, what it holds and where its
#: guide is; the rest belongs in the docs (and figures in their records)
MAX_MODULE_DOCSTRING_LINES = 15


def test_module_docstrings_are_short():
    """Every module docstring of the package takes at most
    :data:`MAX_MODULE_DOCSTRING_LINES` lines."""
    long = []
    for path, tree in _trees(PACKAGE):
        doc = ast.get_docstring(tree, clean=False)
        if doc is None:
            continue
        lines = doc.count('\n') + 1
        if lines > MAX_MODULE_DOCSTRING_LINES:
            long.append(f'{osp.relpath(path, PACKAGE)}: {lines} lines')
    assert not long, (f'module docstrings over {MAX_MODULE_DOCSTRING_LINES} '
                      'lines:\n' + '\n'.join(long))
