"""The manual's pages: each short enough to read in one sitting, the whole
manual within its word budget, each page reachable from the index, and the
layout of MMDetection's docs."""
import os.path as osp

import pytest

from helpers import REPO_ROOT

from .doc_text import links, pages, read

MAX_LINES = 300
#: the manual (every Markdown page under docs/) in words
MAX_WORDS = 60_000


@pytest.mark.parametrize('page', [p for p in pages() if p != 'README.md'])
def test_page_is_at_most_300_lines(page):
    lines = read(page).count('\n')
    assert lines <= MAX_LINES, f'{page}: {lines} lines (at most {MAX_LINES})'


def test_the_manual_is_within_its_word_budget():
    import glob
    files = glob.glob(osp.join(REPO_ROOT, 'docs', '**', '*.md'),
                      recursive=True)
    words = {osp.relpath(f, REPO_ROOT): len(open(f, encoding='utf-8').read(
    ).split()) for f in files}
    total = sum(words.values())
    largest = sorted(words.items(), key=lambda kv: -kv[1])[:5]
    assert total <= MAX_WORDS, (f'docs/ holds {total} words (at most '
                                f'{MAX_WORDS}); largest pages: {largest}')


def test_layout():
    for path in ('get_started.md', 'model_zoo.md', 'changelog.md',
                 'README.md', 'user_guides', 'methods', 'advanced_guides'):
        assert osp.exists(osp.join(REPO_ROOT, 'docs', path)), path


def test_every_page_is_reachable_from_the_index():
    """Following links from docs/README.md reaches every page."""
    seen, todo = set(), ['docs/README.md']
    while todo:
        page = todo.pop()
        if page in seen or not osp.isfile(osp.join(REPO_ROOT, page)):
            continue
        seen.add(page)
        for _, target in links(read(page)):
            path = target.partition('#')[0]
            if path.endswith('.md') and '://' not in path:
                todo.append(osp.normpath(osp.join(osp.dirname(page), path)))
    missing = [p for p in pages() if p.startswith('docs/') and p not in seen]
    assert missing == []


def test_readme_links_the_manual():
    text = read('README.md')
    for target in ('docs/get_started.md', 'docs/model_zoo.md'):
        assert f']({target})' in text, target
