"""Every ``docs/<page>.md`` that the code, configs, tools, benchmarks,
tests, projects and the docs' own text name is a page of the manual (pages move: a stale path in
an error message or a config header sends users nowhere)."""
import glob
import os.path as osp
import re

from helpers import REPO_ROOT

REFERENCE = re.compile(r'(?<![\w/.])docs/((?:[\w-]+/)*[\w-]+\.md)')
FOLDERS = ('mmfusenas', 'configs', 'tools', 'benchmarks', 'tests', 'projects',
           'docs')
SUFFIXES = ('.py', '.md', '.yaml', '.yml', '.sh', '.txt', '.json')
#: paths that tests create in temporary folders, not pages of the manual
NOT_PAGES = ('docs/page.md', )


def stale_references(text: str, root: str = REPO_ROOT) -> list:
    """``(line number, path)`` of every ``docs/...md`` in ``text`` that is
    not a file under ``root``."""
    stale = []
    for number, line in enumerate(text.split('\n'), 1):
        for match in REFERENCE.finditer(line):
            path = 'docs/' + match.group(1)
            if path not in NOT_PAGES and not osp.isfile(
                    osp.join(root, path)):
                stale.append((number, path))
    return stale


def test_stale_references_are_found(tmp_path):
    (tmp_path / 'docs' / 'user_guides').mkdir(parents=True)
    (tmp_path / 'docs' / 'user_guides' / 'a.md').write_text('')
    text = ('see docs/user_guides/a.md and docs/a.md\n'
            '# (docs/methods/b.md, "Sec. 2"); mydocs/x.md; ../docs/y.md\n')
    assert stale_references(text, str(tmp_path)) == [
        (1, 'docs/a.md'), (2, 'docs/methods/b.md')]


#: pages whose old top-level name is not their new file name
RENAMED = {'getting_started.md': 'get_started.md',
           'recipes.md': 'user_guides/train_test.md',
           'tim_official.md': 'user_guides/official_weights.md',
           'performance.md': 'user_guides/deployment.md',
           'apis.md': 'user_guides/inference.md',
           'fuse.md': 'user_guides/inference.md'}


def new_home(path: str) -> str:
    """Where a page named by its old ``docs/<name>.md`` lives now."""
    name = osp.basename(path)
    if name in RENAMED:
        return 'docs/' + RENAMED[name]
    found = sorted(glob.glob(osp.join(REPO_ROOT, 'docs', '**', name),
                             recursive=True))
    return ' or '.join(osp.relpath(f, REPO_ROOT) for f in found) or '?'


def test_every_docs_reference_names_a_page():
    stale = []
    for folder in FOLDERS:
        for path in glob.glob(osp.join(REPO_ROOT, folder, '**', '*'),
                              recursive=True):
            if not path.endswith(SUFFIXES) or not osp.isfile(path) or \
                    osp.join('tests', 'test_docs') in path:
                continue
            with open(path, encoding='utf-8') as f:
                text = f.read()
            rel = osp.relpath(path, REPO_ROOT)
            stale += [f'{rel}:{n}: {p} (now {new_home(p)})'
                      for n, p in stale_references(text)]
    for name in ('README.md', 'pytest.ini', 'setup.py'):
        with open(osp.join(REPO_ROOT, name), encoding='utf-8') as f:
            stale += [f'{name}:{n}: {p} (now {new_home(p)})'
                      for n, p in stale_references(f.read())]
    assert not stale, '\n'.join(stale)


#: a repository path in the docs' prose: ``mmfusenas/...``, ``configs/...``,
#: ``tools/...``, ... (not followed by a placeholder such as ``{a,b}`` or
#: ``*``; ``module.attr`` names the module's file)
REPO_PATH = re.compile(
    r'(?<![\w/.-])((?:mmfusenas|tools|configs|benchmarks|tests|projects|demo)'
    r'/[\w/.-]*\w/?)(?![\w{*<$\[(/])')


def missing_paths(text: str, root: str = REPO_ROOT) -> list:
    """``(line number, path)`` of every repository path in the prose of
    ``text`` (outside fenced blocks) that does not exist under ``root``."""
    from .doc_text import prose
    missing = []
    for number, line in prose(text):
        for match in REPO_PATH.finditer(line):
            path = match.group(1)
            if osp.exists(osp.join(root, path)):
                continue
            module, _, _ = path.rpartition('.')
            if module and osp.isfile(osp.join(root, module + '.py')):
                continue
            missing.append((number, path))
    return missing


def test_missing_paths_are_found(tmp_path):
    (tmp_path / 'mmfusenas' / 'utils').mkdir(parents=True)
    (tmp_path / 'mmfusenas' / 'utils' / 'fileio.py').write_text('')
    text = ('`mmfusenas/utils/fileio.py`, `mmfusenas/utils/fileio.atomic_write`'
            ', `mmfusenas/utils/`, `configs/tim/fusion_{a,b}.py`, '
            'mmfusenas/gone/\n'
            '```\nmmfusenas/gone.py in a code block\n```\n'
            'see mmfusenas/models/fusors/image_fusor.py.\n')
    assert missing_paths(text, str(tmp_path)) == [
        (1, 'mmfusenas/gone/'), (5, 'mmfusenas/models/fusors/image_fusor.py')]


def test_every_path_the_docs_name_exists():
    """A module, config or script the docs name in their prose exists (the
    commands of the shell blocks: ``test_commands.py``)."""
    from .doc_text import pages, read, report_pages
    missing = []
    moved = [p for p in report_pages() if not p.endswith('README.md')]
    for page in pages() + moved:
        missing += [f'{page}:{n}: {p}'
                    for n, p in missing_paths(read(page))]
    assert not missing, '\n'.join(missing)
