"""Every ``docs/<page>.md`` that the code, configs, tools, benchmarks,
tests, projects and the docs' own text name is a page of the manual (pages move: a stale path in
an error message or a config header sends users nowhere)."""
import glob
import os.path as osp
import re

from mmfusenas.testing import REPO_ROOT

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
    assert not stale, '\n'.join(stale)
