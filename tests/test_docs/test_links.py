"""Every relative link of ``docs/**/*.md``, ``README.md`` and the reports
outside the manual (``benchmarks/docs/``, ``projects/cpu_kernels/docs/``
and their READMEs) reaches an existing file, and an anchor into a Markdown
page names one of its headings."""
import os.path as osp

import pytest

from helpers import REPO_ROOT

from .doc_text import anchors, links, pages, read, report_pages


def broken_links(page: str, text: str, root: str = REPO_ROOT) -> list:
    """``page:line: target (why)`` of every link of ``text`` (the text of
    ``page``) that does not resolve under ``root``."""
    bad = []
    for number, target in links(text):
        if '://' in target or target.startswith(('mailto:', '<')):
            continue
        path, _, anchor = target.partition('#')
        if not path:
            if anchor not in anchors(text):
                bad.append(f'{page}:{number}: {target} (no heading '
                           f'#{anchor})')
            continue
        full = osp.normpath(osp.join(root, osp.dirname(page), path))
        if not osp.exists(full):
            bad.append(f'{page}:{number}: {target} (no such file)')
        elif anchor and full.endswith('.md'):
            with open(full, encoding='utf-8') as f:
                if anchor not in anchors(f.read()):
                    bad.append(f'{page}:{number}: {target} (no heading '
                               f'#{anchor})')
    return bad


def test_broken_links_are_found(tmp_path):
    (tmp_path / 'docs' / 'sub').mkdir(parents=True)
    (tmp_path / 'docs' / 'sub' / 'b.md').write_text(
        '# Title\n\n## The `x` part: 2 steps\n')
    text = ('[ok](sub/b.md) [ok](sub/b.md#the-x-part-2-steps) [web](http://'
            'x.org) [self](#top)\n[gone](c.md) [bad](sub/b.md#nope)\n'
            '```\n[in code](missing.md)\n```\n# Top\n')
    bad = broken_links('docs/a.md', text, str(tmp_path))
    assert bad == ['docs/a.md:2: c.md (no such file)',
                   'docs/a.md:2: sub/b.md#nope (no heading #nope)']


@pytest.mark.parametrize('page', pages() + report_pages())
def test_every_relative_link_resolves(page):
    assert broken_links(page, read(page)) == []
