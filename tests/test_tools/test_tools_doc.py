"""docs/tools.md documents every tool of tools/ and every argument of each
(read from the tools' own parsers)."""
import os.path as osp
import re

import pytest

from mmfusenas.testing import REPO_ROOT, tool_options, tool_paths

DOC = osp.join(REPO_ROOT, 'docs', 'tools.md')


def sections():
    text = open(DOC, encoding='utf-8').read()
    parts = re.split(r'^## `([^`]+)`\s*$', text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_tool_has_a_section():
    tools = tool_paths()
    # the inference, training, analysis and conversion tools at least
    for name in ('tools/train.py', 'tools/test.py', 'tools/fuse.py',
                 'tools/enhance.py', 'tools/deblur.py',
                 'tools/analysis_tools/benchmark.py',
                 'tools/model_converters/tim_official_to_mmfusenas.py'):
        assert name in tools
    assert sorted(sections()) == tools


@pytest.mark.parametrize('path', tool_paths())
def test_every_argument_is_documented(path):
    section = sections()[path]
    rows = tool_options(path)
    assert rows, f'{path}: no arguments found'
    for sub, names, _ in rows:
        for name in names.split(', '):
            cell = f'`{name}`'
            assert cell in section, f'{path}: {name} is not documented'
            if sub:
                assert f'| `{sub}` | {cell}' in section or \
                    re.search(rf'\| `{sub}` \|[^\n]*{re.escape(cell)}',
                              section), f'{path} {sub}: {name}'
    # every documented argument has a meaning
    for line in section.splitlines():
        if line.startswith('| `'):
            assert not line.rstrip().endswith('|  |'), line
