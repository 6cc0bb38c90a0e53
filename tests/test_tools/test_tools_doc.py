"""The tools reference (docs/user_guides/tools.md) documents every tool of
tools/ and every argument of each (read from the tools' own parsers)."""
import os.path as osp
import re

import pytest

from helpers import REPO_ROOT, tool_options, tool_paths

DOCS = [osp.join(REPO_ROOT, 'docs', 'user_guides', 'tools.md')]


def sections():
    found = {}
    for doc in DOCS:
        text = open(doc, encoding='utf-8').read()
        parts = re.split(r'^## `([^`]+)`\s*$', text, flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            assert name not in found, f'{name} is documented twice'
            found[name] = body
    return found


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


def test_no_default_is_an_absolute_path():
    """A default computed from the checkout's location (``--data-config``
    of the DCNAS converter) put a developer's absolute path into the
    generated table; defaults are relative or described in the help."""
    import argparse

    from helpers import tool_parser
    bad = []
    for path in tool_paths():
        parsers = [tool_parser(path)]
        for parser in parsers:
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    parsers.extend(action.choices.values())
                elif isinstance(action.default, str) and osp.isabs(
                        action.default):
                    bad.append(f'{path} {action.option_strings}: '
                               f'{action.default}')
    assert not bad
    for path, section in sections().items():
        for line in section.splitlines():
            cells = line.split(' | ')
            if line.startswith('| `') and len(cells) > 1:
                assert not cells[1].startswith('`/'), f'{path}: {line}'
