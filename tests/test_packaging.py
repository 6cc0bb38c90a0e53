"""What a user of an OpenMMLab-style package expects at the top level: a
license, lint settings with a pre-commit file, no empty model index."""
import configparser
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_apache_2_and_declared():
    text = (ROOT / 'LICENSE').read_text(encoding='utf-8')
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    out = subprocess.run([sys.executable, 'setup.py', '--license'],
                         cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == 'Apache License 2.0'


def test_lint_settings_match_the_code_style():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    assert cfg['isort']['known_first_party'] == 'mmfusenas'
    assert cfg['isort']['line_length'] == cfg['flake8']['max-line-length'] \
        == '79'
    assert cfg['yapf']['based_on_style'] == 'pep8'
    hooks = {
        hook['id']
        for repo in yaml.safe_load(
            (ROOT / '.pre-commit-config.yaml').read_text())['repos']
        for hook in repo['hooks']
    }
    assert {'flake8', 'isort', 'yapf', 'double-quote-string-fixer'} <= hooks


def test_model_index_is_filled_or_absent():
    """mim's model index lists per-config metafiles; an index without them
    would promise a model zoo that is not there."""
    index = ROOT / 'mmfusenas' / '.mim' / 'model-index.yml'
    if not index.exists():
        assert not list((ROOT / 'configs').glob('*/metafile.yml'))
        return
    imports = yaml.safe_load(index.read_text())['Import']
    assert imports, 'model-index.yml imports no metafile'
    for meta in imports:
        assert (index.parent / meta).exists(), meta
