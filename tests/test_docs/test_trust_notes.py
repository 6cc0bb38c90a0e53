"""The docs say that configs are executed Python, and it is true."""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

from .doc_text import read


def test_loading_a_config_runs_its_code_and_the_docs_say_so(tmp_path):
    marker = tmp_path / 'ran'
    cfg = tmp_path / 'evil.py'
    # no import statement: with one, mmengine >= 0.10 may parse the file in
    # its lazy-import mode, which defers (and refuses) such calls
    cfg.write_text(f"__import__('pathlib').Path({str(marker)!r}).touch()\n"
                   'x = 1\n')
    Config.fromfile(str(cfg))
    assert osp.exists(marker)  # what the warning is about
    assert '**Configs are executed Python.**' in read(
        'docs/user_guides/train_test.md')
    page = read('docs/user_guides/reliability.md')
    assert '## 7. Configs are Python programs' in page
    assert 'run only configs from sources you trust' in page


def test_cfg_options_values_run_no_code(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    marker = tmp_path / 'ran'
    value = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    args = parser.parse_args(['--cfg-options', f'a={value}'])
    assert isinstance(args.cfg_options['a'], str)
    assert not osp.exists(marker)
