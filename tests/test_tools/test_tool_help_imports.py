"""``--help`` of a tool builds its parser before the heavy imports: it
loads neither torch, mmdet, mmcv nor mmseg, nor the registries (what is
asserted is what gets imported, not how long it takes)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from helpers import REPO_ROOT

#: the packages ``--help`` must not import (seconds of start-up each)
HEAVY = ('torch', 'mmdet', 'mmcv', 'mmseg')

#: ``python TOOL --help`` in this process, then the modules it imported
_WRAPPER = '''import json, runpy, sys
sys.argv = [{tool!r}, '--help']
try:
    runpy.run_path({tool!r}, run_name='__main__')
except SystemExit as err:
    code = err.code
else:
    code = None
print(json.dumps(dict(code=code, modules=sorted(
    m for m in sys.modules if m.split('.')[0] in
    {{'torch', 'mmdet', 'mmengine', 'mmcv', 'mmseg'}}
    or m == 'mmfusenas.registry'))))
'''


def help_imports(tool: str) -> dict:
    """Run ``python tool --help`` in a fresh process: ``{'code': its exit
    code, 'usage': the help text, 'modules': [the modules of torch, mmdet,
    mmengine, mmcv, mmseg and mmfusenas.registry it imported]}``."""
    path = osp.join(REPO_ROOT, tool)
    out = subprocess.run(
        [sys.executable, '-c', _WRAPPER.format(tool=path)], check=True,
        capture_output=True, text=True, cwd=REPO_ROOT).stdout
    *usage, last = out.strip().splitlines()
    return dict(json.loads(last), usage='\n'.join(usage))


@pytest.mark.parametrize('tool', [
    'tools/train.py', 'tools/analysis_tools/eval_fusion.py'])
def test_help_imports_no_torch_nor_registries(tool):
    got = help_imports(tool)
    assert got['code'] == 0
    assert got['usage'].startswith('usage: ')
    assert '--help' in got['usage']
    heavy = [m for m in got['modules']
             if m.split('.')[0] in HEAVY or m == 'mmfusenas.registry']
    assert heavy == [], f'{tool} --help imported {heavy[:10]}'
