"""Every command in the ``bash`` / ``shell`` blocks of ``docs/``,
``README.md`` and the reports outside the manual (``report_pages``) names
configs, scripts and options that exist: a config or script path
(``configs/``, ``tools/``, ``benchmarks/``, ``demo/``, ``projects/``) is a
file of the repository, and every ``--option`` after a project Python
script is an argument of that script's parser (read from its
``add_argument`` calls, and those of the project modules it imports).
Placeholders (``CONFIG``, ``$VAR``, ``<...>``, ``{a,b}`` lists are expanded)
and paths under ``work_dirs/`` or ``data/`` are not checked."""
import ast
import functools
import importlib
import inspect
import itertools
import os
import os.path as osp
import re
from typing import List, Set

import pytest

from helpers import REPO_ROOT, tool_options, tool_paths

from .doc_text import pages, read, report_pages, shell_commands

ROOTS = ('configs', 'tools', 'benchmarks', 'demo', 'projects')
PATH = re.compile(r'(?:^|(?<=[=:,]))((?:%s)/[\w./{},*-]+\.(?:py|sh|yaml|yml))'
                  % '|'.join(ROOTS))
PLACEHOLDER = re.compile(r'[$<>*]|\.\.\.')


def expand(path: str) -> List[str]:
    """``a_{x,y}.py`` -> ``['a_x.py', 'a_y.py']`` (every brace list)."""
    parts = re.split(r'\{([^{}]*)\}', path)
    choices = [[p] if i % 2 == 0 else p.split(',')
               for i, p in enumerate(parts)]
    return [''.join(c) for c in itertools.product(*choices)]


def _module_file(name: str, folder: str) -> List[str]:
    """Files of an imported module: a sibling script or a package module;
    for a name a package exports lazily (PEP 562), its defining module."""
    found = []
    for base in (folder, REPO_ROOT):
        path = osp.join(base, *name.split('.'))
        for candidate in (path + '.py', osp.join(path, '__init__.py')):
            if osp.isfile(candidate):
                found.append(candidate)
    package, _, attr = name.rpartition('.')
    if not found and package.startswith('mmfusenas'):
        try:
            obj = getattr(importlib.import_module(package), attr)
            found.append(inspect.getsourcefile(inspect.getmodule(obj)))
        except (ImportError, AttributeError, TypeError):
            pass
    return found


@functools.lru_cache(maxsize=None)
def script_options(path: str, depth: int = 2) -> Set[str]:
    """Option strings of a script: for the tools of ``tools/`` those of the
    parser their ``parse_args`` builds; for other scripts those of every
    ``add_argument`` call in ``path`` and in the project modules it imports
    (``depth`` levels, relative imports
    resolved, so a package's ``__init__`` leads to the module defining a
    name), and ``--mode`` where it imports ``run_mode``."""
    full = path if osp.isabs(path) else osp.join(REPO_ROOT, path)
    rel = osp.relpath(full, REPO_ROOT)
    if osp.commonpath([full, REPO_ROOT]) == REPO_ROOT and \
            rel in tool_paths():
        return {name for _, names, _ in tool_options(rel)
                for name in names.split(', ')}
    with open(full, encoding='utf-8') as f:
        tree = ast.parse(f.read(), full)
    options, imported = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(
                node.func, ast.Attribute) and \
                node.func.attr == 'add_argument':
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(
                        arg.value, str) and arg.value.startswith('-'):
                    options.add(arg.value)
        elif isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module
                                                   or node.level):
            module = node.module or ''
            if node.level:  # relative: resolved from the file's package
                package = osp.relpath(osp.dirname(full), REPO_ROOT).split(
                    os.sep)
                package = package[:len(package) - node.level + 1]
                module = '.'.join(package + ([module] if module else []))
            imported.append(module)
            imported += [f'{module}.{a.name}' for a in node.names]
            if any(a.name == 'run_mode' for a in node.names):
                options.add('--mode')  # mmfusenas.benchmark.cli_modes.run_mode
    if depth:
        for name in imported:
            if name.split('.')[0] not in ('mmfusenas', ) and '.' in name:
                continue
            for file in _module_file(name, osp.dirname(full)):
                options |= script_options(file, depth - 1)
    return options


def command_problems(words: List[str], root: str = REPO_ROOT) -> List[str]:
    """What is wrong with one command (its words): missing files, options
    that its script does not define (none after ``--``, which passes the
    rest on)."""
    problems, script = [], None
    for i, word in enumerate(words):
        if word == '--' and script is not None:
            return problems + command_problems(
                [w for w in words[i + 1:] if not w.startswith('-')], root)
        for match in PATH.finditer(word):
            path = match.group(1)
            if PLACEHOLDER.search(path):
                continue
            for each in expand(path):
                if not osp.isfile(osp.join(root, each)):
                    problems.append(f'{each} does not exist')
                elif script is None and each.endswith('.py') and \
                        word == path and not each.startswith('configs/'):
                    script = each
        if script is None or not word.startswith('--') or word == '--':
            continue
        if PLACEHOLDER.search(word) or not osp.isfile(
                osp.join(root, script)):
            continue
        flag = word.split('=', 1)[0]
        if flag not in script_options(osp.join(root, script)):
            problems.append(f'{script} has no option {flag}')
    return problems


def test_command_problems_are_found(tmp_path):
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'configs').mkdir()
    (tmp_path / 'configs' / 'a_x.py').write_text('')
    (tmp_path / 'tools' / 't.py').write_text(
        'import argparse\np = argparse.ArgumentParser()\n'
        "p.add_argument('config')\np.add_argument('--out', '-o')\n")
    ok = ['python', 'tools/t.py', 'configs/a_x.py', '--out=x',
          'work_dirs/z.py', 'CONFIG', '$CFG']
    assert command_problems(ok, str(tmp_path)) == []
    assert command_problems(['python', 'tools/t.py', 'configs/a_{x,y}.py',
                             '--outt', 'x'], str(tmp_path)) == [
        'configs/a_y.py does not exist', 'tools/t.py has no option --outt']
    assert command_problems(['bash', 'tools/gone.sh'], str(tmp_path)) == [
        'tools/gone.sh does not exist']
    # options before the script belong to the launcher
    assert command_problems(['python', '-m', 'torch.distributed.run',
                             '--nproc_per_node=2', 'tools/t.py'],
                            str(tmp_path)) == []
    # after -- the options are passed on; the paths are still checked
    assert command_problems(['python', 'tools/t.py', '--out', 'x', '--',
                             '--any', 'configs/a_y.py'], str(tmp_path)) == [
        'configs/a_y.py does not exist']


def test_options_of_the_training_tool_are_read():
    options = script_options('tools/train.py')
    assert {'--work-dir', '--cfg-options', '--resume'} <= options


@pytest.mark.parametrize('page', pages() + report_pages())
def test_every_command_names_what_exists(page):
    bad = []
    for number, words in shell_commands(read(page)):
        bad += [f'{page}:{number}: {p}' for p in command_problems(words)]
    assert bad == []


#: options that name where a documented command writes
OUTPUT_OPTIONS = ('--out', '--out-dir', '--output', '--save', '--save-dir',
                  '--work-dir', '--show-dir', '--save-path')
#: where a documented command may write: the ignored output folders, or
#: files meant to be committed (records, split lists)
OUTPUT_HOMES = ('work_dirs', 'outputs', 'data/', 'docs/results/',
                'configs/_base_/datasets/splits')


def test_documented_commands_write_under_the_output_folders():
    """No documented command writes into the repository root (issue 79
    item 14): every output option is a placeholder (``OUT``, ``DIR``,
    ``$VAR``, ``<...>``) or lies under an ignored output folder or a place
    for committed records."""
    wrong = []
    for page in pages() + report_pages():
        for number, words in shell_commands(read(page)):
            for i, word in enumerate(words[:-1]):
                key, eq, value = word.partition('=')
                if key not in OUTPUT_OPTIONS:
                    continue
                value = value if eq else words[i + 1]
                if re.fullmatch(r'[A-Z_]+(\.\w+)?', value) or \
                        PLACEHOLDER.search(value) or \
                        value.startswith(OUTPUT_HOMES):
                    continue
                wrong.append(f'{page}:{number}: {key} {value}')
    assert not wrong, wrong
