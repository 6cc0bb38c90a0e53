"""The API reference (docs/api.md, docs/api_models.md) is generated from the
registries and up to date: every registered toolbox component is listed
once, on the page of its registry."""
import re

from mmfusenas.registry import DATASETS, HOOKS, MODELS
from helpers import load_tool
from mmfusenas.utils import register_all_modules

from .doc_text import read

TOOL = load_tool('tools/misc/api_index.py')


def test_pages_match_the_registries(capsys):
    assert TOOL.main(['--check']) == 0, capsys.readouterr().err


def test_every_component_is_listed_once():
    register_all_modules(init_default_scope=False)
    pages = {'MODELS': read('docs/api_models.md'),
             'DATASETS': read('docs/api.md'), 'HOOKS': read('docs/api.md')}
    for name, reg in (('MODELS', MODELS), ('DATASETS', DATASETS),
                      ('HOOKS', HOOKS)):
        for key, obj in reg.module_dict.items():
            if not obj.__module__.startswith('mmfusenas'):
                continue
            rows = re.findall(rf'^\| `{re.escape(key)}` \| `([^`]+)` \|',
                              pages[name], flags=re.M)
            assert rows == [obj.__module__], (name, key, rows)


def test_summary_is_the_first_paragraph_on_one_line():

    class Doc:
        """First line
        continues here.

        Second paragraph | not shown.
        """

    assert TOOL.summary(Doc) == 'First line continues here.'

    class Pipe:
        """a | b"""

    assert TOOL.summary(Pipe) == 'a \\| b'

    class Rst:
        """:class:`~mmfusenas.models.ImageFusor` on ``x[0](y)``."""

    assert TOOL.summary(Rst) == '`ImageFusor` on `x[0](y)`.'
