"""One home for the shared type aliases; mmdet's are not redefined."""
import ast
from pathlib import Path
from typing import Union

import torch.nn as nn
from mmengine.config import ConfigDict

from mmfusenas.utils import typing_utils

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / 'mmfusenas' / 'utils' / 'typing_utils.py'


def alias_definitions(src: str, suffix: str = 'ConfigType') -> list:
    """Names ending in ``suffix`` that ``src`` assigns at module level."""
    found = []
    for node in ast.parse(src).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        found += [t.id for t in targets
                  if isinstance(t, ast.Name) and t.id.endswith(suffix)]
    return found


def test_module_config_alias():
    assert typing_utils.ModuleConfigType == Union[ConfigDict, dict,
                                                  nn.Module]


def test_checker_finds_a_planted_alias():
    assert alias_definitions('ConfigType = dict\nx = 1\n') == ['ConfigType']
    assert alias_definitions('OptConfigType: type = dict\n') == [
        'OptConfigType']
    assert alias_definitions('def f():\n    ConfigType = 1\n') == []


def test_no_module_defines_its_own_config_alias():
    defined = {}
    for path in sorted((ROOT / 'mmfusenas').rglob('*.py')):
        names = alias_definitions(path.read_text(encoding='utf-8'))
        if names:
            defined[str(path.relative_to(ROOT))] = names
    assert defined == {
        str(HOME.relative_to(ROOT)): ['ModuleConfigType',
                                      'OptModuleConfigType']
    }
