"""Every long-running tool shows progress (issue 16): the progress helper,
the folder tools (fuse / enhance / eval_fusion / deblur), the benchmark and
the evolution search's candidate evaluation."""
import io
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from scipy.io import loadmat

from mmfusenas.search.strategies.evolution import EvolutionSearcher
from helpers import (LogCapture, load_tool,
                     save_seeded_checkpoint)
from mmfusenas.utils.progress import track

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FUSION_CFG = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')
RUAS_CFG = osp.join(REPO, 'configs', 'ruas', 'ruas_a_toy.py')
HQS_CFG = osp.join(REPO, 'configs', 'hyper_guidance',
                   'hqs_proxy_bilevel_toy.py')

pytestmark = pytest.mark.usefixtures('one_thread')


class _Terminal(io.StringIO):

    def isatty(self):
        return True


def test_a_bar_on_a_terminal_and_lines_elsewhere():
    """On a terminal MMEngine's bar redraws in place; into a file or pipe
    one line per 10 % is written, with no carriage return."""
    tty = _Terminal()
    assert list(track(range(40), 'on a terminal', file=tty)) == list(
        range(40))
    assert '\r' in tty.getvalue() and '40/40' in tty.getvalue()
    log = io.StringIO()
    assert list(track(range(40), 'into a log', file=log)) == list(range(40))
    lines = log.getvalue().splitlines()
    assert '\r' not in log.getvalue()
    assert lines[0] == 'into a log:'
    assert [line.split(' ')[0] for line in lines[1:]] == [
        f'{4 * k}/40' for k in range(1, 11)]
    assert lines[-1].startswith('40/40 (100%), elapsed: ')
    log = io.StringIO()  # fewer steps than lines: one per step
    list(track(range(3), 'three', file=log))
    assert [line.split(' ')[0] for line in log.getvalue().splitlines()[1:]
            ] == ['1/3', '2/3', '3/3']


def test_track_yields_everything_and_prints_a_bar():
    out = io.StringIO()
    assert list(track(range(3), 'working on 3', file=out)) == [0, 1, 2]
    text = out.getvalue()
    assert text.startswith('working on 3:\n')
    assert '3/3' in text and text.endswith('\n')
    # a generator with total=, a disabled or empty bar prints nothing
    out = io.StringIO()
    assert list(track((i for i in 'ab'), 'gen', total=2, file=out)) == [
        'a', 'b'
    ]
    assert '2/2' in out.getvalue()
    for kwargs in (dict(enabled=False), dict()):
        out = io.StringIO()
        items = [1] if kwargs else []
        assert list(track(items, 'x', file=out, **kwargs)) == items
        assert out.getvalue() == ''


def test_folder_tools_print_progress(shared_data, tmp_path, capsys):
    # two small TNO crops
    for folder in ('ir', 'vi'):
        os.makedirs(tmp_path / folder)
        for stem in ('05', '07'):
            img = cv2.imread(osp.join(shared_data, 'fusion', 'TNO', folder,
                                      f'{stem}.png'), 0)
            cv2.imwrite(str(tmp_path / folder / f'{stem}.png'), img[:64, :64])
    ckpt = save_seeded_checkpoint(FUSION_CFG, str(tmp_path / 'f.pth'),
                     {'model.fusion_net.channels': 4})
    load_tool('tools/fuse.py').main([
        FUSION_CFG, ckpt, '--ir', str(tmp_path / 'ir'), '--vi',
        str(tmp_path / 'vi'), '--out', str(tmp_path / 'fused'),
        '--cfg-options', 'model.fusion_net.channels=4'
    ])
    out = capsys.readouterr().out
    assert 'fusing 2 pair(s):' in out and '2/2' in out
    load_tool('tools/analysis_tools/eval_fusion.py').main([
        str(tmp_path / 'ir'), str(tmp_path / 'vi'), str(tmp_path / 'fused'),
        '--metrics', 'EN', 'SD'
    ])
    out = capsys.readouterr().out
    assert 'evaluating 2 fused image(s)' in out and '2/2' in out

    # enhancement: one LOL crop
    os.makedirs(tmp_path / 'low')
    low = cv2.imread(osp.join(shared_data, 'lowlight', 'lol', 'test',
                              '00001.png'))
    cv2.imwrite(str(tmp_path / 'low' / 'a.png'), low[:48, :64])
    ckpt = save_seeded_checkpoint(RUAS_CFG, str(tmp_path / 'r.pth'))
    load_tool('tools/enhance.py').main([
        RUAS_CFG, ckpt, '--input', str(tmp_path / 'low'), '--out',
        str(tmp_path / 'enh')
    ])
    out = capsys.readouterr().out
    assert 'enhancing 1 image(s):' in out and '1/1' in out

    # deblurring: one Levin image with its kernel
    mat = loadmat(osp.join(shared_data, 'deblur', 'levin09',
                           'im05_flit01.mat'))
    os.makedirs(tmp_path / 'blur')
    os.makedirs(tmp_path / 'kern')
    cv2.imwrite(str(tmp_path / 'blur' / 'a.png'),
                np.round(mat['y'][:64, :64] * 255).astype(np.uint8))
    np.save(str(tmp_path / 'kern' / 'a.npy'), mat['f'])
    ckpt = save_seeded_checkpoint(HQS_CFG, str(tmp_path / 'h.pth'))
    load_tool('tools/deblur.py').main([
        HQS_CFG, ckpt, '--input', str(tmp_path / 'blur'), '--kernels',
        str(tmp_path / 'kern'), '--out', str(tmp_path / 'sharp')
    ])
    out = capsys.readouterr().out
    assert 'restoring 1 image(s):' in out and '1/1' in out
    assert osp.isfile(tmp_path / 'sharp' / 'a.png')


def test_benchmark_announces_its_passes(capsys):
    load_tool('tools/analysis_tools/benchmark.py').main([
        FUSION_CFG, '--shape', '32', '32', '--warmup', '1', '--repeats', '2',
        '--cfg-options', 'model.fusion_net.channels=4'
    ])
    out = capsys.readouterr().out
    assert 'timing 1 warm-up + 2 passes of fusion_ivif_toy.py at 32 x 32' \
        in out


def test_evolution_logs_candidate_progress():
    logger = MMLogger.get_instance('evolution_progress', log_level='INFO')
    cap = LogCapture()
    logger.addHandler(cap)
    space = {f'k{i}': ('a', 'b', 'c') for i in range(4)}
    searcher = EvolutionSearcher(
        space, lambda p: sum(v == 'a' for v in p.values()),
        population_size=10, top_k=3, num_mutation=5, num_crossover=5,
        max_iters=1, seed=0)
    searcher.run()
    progress = [m for m in cap.messages if 'candidates' in m]
    # every population_size // 5 = 2 candidates of a generation of 10
    assert progress == [
        f'evolution generation 0: scored {n} candidates'
        for n in (2, 4, 6, 8, 10)
    ]


def test_toy_data_tool_prints_progress(tmp_path, capsys):
    load_tool('tools/misc/make_toy_data.py').main(
        [str(tmp_path / 'toy'), '--num', '3', '--size', '64'])
    out = capsys.readouterr().out
    assert 'writing 3 toy IR/VIS pair(s):' in out and '3/3' in out
