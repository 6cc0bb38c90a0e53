"""What a user of an OpenMMLab-style package expects at the top level: a
license, lint settings with a pre-commit file, no empty model index."""
import configparser
import json
import os
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


def test_model_index_is_filled_and_current():
    """mim's model index lists one metafile per method folder, each naming
    every config of its folder; MMEngine needs the index to resolve
    ``_base_ = 'mmfusenas::...'`` (it re-raises a missing index), and the
    files equal a regeneration by ``tools/misc/make_metafiles.py``."""
    index = ROOT / 'mmfusenas' / '.mim' / 'model-index.yml'
    imports = yaml.safe_load(index.read_text())['Import']
    assert imports, 'model-index.yml imports no metafile'
    configs = set()
    for meta in imports:
        meta_path = index.parent / meta
        assert meta_path.exists(), meta
        for model in yaml.safe_load(meta_path.read_text())['Models']:
            assert (ROOT / model['Config']).is_file(), model['Config']
            configs.add(model['Config'])
    for method in ('tim', 'ruas', 'dcnas', 'hbl', 'hyper_guidance',
                   'baselines'):
        shipped = {f'configs/{method}/{p.name}'
                   for p in (ROOT / 'configs' / method).glob('*.py')}
        assert shipped <= configs, sorted(shipped - configs)[:3]
    # the measured baselines carry the committed results file's numbers
    baselines = yaml.safe_load(
        (ROOT / 'configs' / 'baselines' / 'metafile.yml').read_text())
    seafusion = next(m for m in baselines['Models']
                     if m['Name'] == 'seafusion_ivif')
    result = json.loads(
        (ROOT / 'docs' / 'results' / 'fusion_real.json').read_text())
    tno = next(r for r in seafusion['Results'] if r['Dataset'] == 'TNO')
    assert tno['Metrics']['EN'] == round(
        result['result']['TNO']['SeAFusion']['EN'], 4)
    check = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'misc' / 'make_metafiles.py'),
         '--check'], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_installed_stack_is_consistent():
    """``pip check`` finds no broken requirement in the environment the
    README installs (torch 2.13 needs setuptools >= 77.0.3: the mmcv
    build's older pin is undone after it), and one package provides
    ``cv2`` (mmcv requires opencv-python; a second, headless copy shares
    its files, so removing either would break ``import cv2``); setuptools
    still has pkg_resources."""
    check = subprocess.run([sys.executable, '-m', 'pip', 'check'],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    from importlib.metadata import distributions
    cv2_dists = sorted({d.metadata['Name'].lower() for d in distributions()
                        if (d.read_text('top_level.txt') or '').split()
                        [:1] == ['cv2']})
    assert len(cv2_dists) == 1, cv2_dists
    runtime = (ROOT / 'requirements' / 'runtime.txt').read_text()
    assert 'opencv-python-headless' not in runtime
    # mmengine loads ``mmdet::`` base configs through pkg_resources
    from importlib.util import find_spec
    assert find_spec('pkg_resources') is not None


def test_mmfusenas_configs_resolve_with_the_metadata_in_site_packages(
        tmp_path):
    """A PEP 660 editable install keeps the distribution's metadata in
    site-packages and the package in the source tree; MMEngine 0.10.7 looks
    for ``.mim`` beside the metadata. A folder holding only the metadata,
    first on the path, stands in for site-packages: the ``mmfusenas::`` base
    is looked for beside the metadata without MMFuseNAS and is found once
    it is imported."""
    site = tmp_path / 'site'
    meta = site / 'mmfusenas-0.1.0.dist-info'
    meta.mkdir(parents=True)
    (meta / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: mmfusenas\nVersion: 0.1.0\n')
    (meta / 'top_level.txt').write_text('mmfusenas\n')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = 'mmfusenas::tim/fusion_ivif_toy.py'\nx = 1\n")
    code = ('import sys\n{}from mmengine.config import Config\n'
            'from mmengine.utils import get_installed_path\n'
            'print(get_installed_path("mmfusenas"))\n'
            'print(Config.fromfile(sys.argv[1]).model.type)\n')
    env = dict(os.environ, PYTHONPATH=f'{site}{os.pathsep}{ROOT}')

    def run(imports):
        return subprocess.run(
            [sys.executable, '-c', code.format(imports), str(child)],
            capture_output=True, text=True, cwd=tmp_path, env=env)

    plain = run('')
    assert plain.returncode != 0
    assert plain.stdout.split()[0] == str(site / 'mmfusenas')
    fixed = run('import mmfusenas\n')
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    path, model_type = fixed.stdout.split()
    assert path == str(ROOT / 'mmfusenas')
    assert model_type == 'ImageFusor'
    # other packages are located by MMEngine as before
    import mmdet
    from mmengine.utils import get_installed_path
    assert get_installed_path('mmdet') == str(Path(mmdet.__file__).parent)
