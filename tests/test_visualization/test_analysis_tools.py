"""Analysis tools: genotype drawing, log curves, α evolution, browse,
benchmark."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmfusenas.models.mutables import Genotype
from helpers import load_tool
from mmfusenas.visualization import (arch_series, cell_graphs, draw_boxes,
                                     load_scalars, sample_panels, series,
                                     train_time)
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))




pytestmark = pytest.mark.usefixtures('one_thread')


def write_scalars(path, records):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for r in records:
            f.write(json.dumps(r) + '\n')
    return path


RECORDS = [
    {'loss': 1.0, 'time': 0.5, 'step': 1},
    {'arch/c0/a': 0.5, 'arch/c0/b': 0.5, 'arch/c1/op/x': 1.0, 'step': 1},
    {'loss': 0.5, 'time': 0.3, 'step': 2},
    {'arch/c0/a': 0.2, 'arch/c0/b': 0.8, 'arch/c1/op/x': 1.0, 'step': 2},
    {'fusion/EN': 6.5, 'step': 2},
]


def test_scalar_series_and_arch_evolution(tmp_path):
    path = write_scalars(str(tmp_path / 'run' / '2024' / 'vis_data' /
                             'scalars.json'), RECORDS)
    records = load_scalars(str(tmp_path / 'run'))  # folder -> newest file
    assert records == RECORDS
    x, y = series(records, 'loss')
    assert x.tolist() == [1, 2] and y.tolist() == [1.0, 0.5]
    arch = arch_series(records)
    assert list(arch) == ['c0', 'c1/op']
    steps, names, probs = arch['c0']
    assert steps.tolist() == [1, 2] and names == ['a', 'b']
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.2, 0.8]])
    assert train_time(records) == dict(mean=0.4, max=0.5, min=0.3,
                                       std=pytest.approx(0.1), iters=2)
    tool = load_tool('tools/analysis_tools/analyze_logs.py')
    out = str(tmp_path / 'new' / 'alpha.png')  # folders made
    tool.main(['plot_arch', path, '--out', out])
    assert cv2.imread(out).shape[0] > 100
    out = str(tmp_path / 'curves' / 'curves.svg')
    tool.main(['plot_curve', path, path, '--keys', 'loss', 'fusion/EN',
               '--legend', 'a', 'b', '--out', out])
    assert open(out).read().count('<svg') == 1
    with pytest.raises(KeyError, match="no run logged 'nope'"):
        tool.main(['plot_curve', path, '--keys', 'nope'])
    with pytest.raises(ValueError, match='ArchLoggingHook'):
        tool.main(['plot_arch', write_scalars(str(tmp_path / 's.json'),
                                              RECORDS[:1])])
    bad = str(tmp_path / 'bad.json')
    with open(bad, 'w') as f:
        f.write('{"a": 1}\nnot json\n')
    with pytest.raises(ValueError, match='bad.json:2'):
        load_scalars(bad)


def test_train_time_leaves_out_validation_records(tmp_path, capsys):
    """MMEngine's record after a validation epoch (metrics + the mean time
    of a validation iteration, no ``iter``) was counted as a training step:
    mean 1.29 s for steps of 0.74-0.79 s."""
    records = [
        dict(lr=0.01, data_time=0.01, loss=1.0, time=0.74, iter=1, step=1),
        dict(lr=0.01, data_time=0.01, loss=0.9, time=0.79, iter=2, step=2),
        {'fusion/EN': 6.1, 'fusion/CC': 0.5, 'data_time': 0.3, 'time': 3.5,
         'step': 2},
        dict(lr=0.01, data_time=0.01, loss=0.8, time=0.75, iter=3, step=3),
    ]
    assert train_time(records) == dict(
        mean=pytest.approx(0.76), max=0.79, min=0.74,
        std=pytest.approx(np.std([0.74, 0.79, 0.75])), iters=3)
    path = write_scalars(str(tmp_path / 'scalars.json'), records)
    tool = load_tool('tools/analysis_tools/analyze_logs.py')
    res = tool.main(['cal_train_time', path])
    assert res[path]['iters'] == 3 and res[path]['max'] == 0.79
    assert '| 0.7600 ' in capsys.readouterr().out
    with pytest.raises(ValueError, match='training iterations'):
        train_time(records[2:3])


def test_genotype_drawing(tmp_path):
    graphs = cell_graphs(dict(
        type='TIMFusionNet',
        cells=[dict(type='MultiScaleFusionCell', ops=['A_1', 'B_2']),
               dict(type='SuccessiveCell', ops=['C', dict(type='D')])]))
    assert [g['title'] for g in graphs] == [
        'cells[0]: MultiScaleFusionCell', 'cells[1]: SuccessiveCell']
    assert [e[2] for e in graphs[1]['edges']] == ['ReLU-1x1-BN', 'C', 'D']
    # 3 scales x 2 ops + preprocess + 2 downsamplings + 3 merges + SKFF +
    # residual
    assert len(graphs[0]['edges']) == 14
    ruas = cell_graphs(Config.fromfile(
        osp.join(REPO, 'configs', 'ruas', 'ruas_a_lol.py')).model.to_dict())
    assert [g['title'] for g in ruas] == [
        'network.scene.cell: RUASDistillationCell',
        'network.denoiser.cell: RUASDistillationCell']
    assert ruas[0]['edges'][0] == ('x', 'd1', 'skip_connect')
    assert ruas[0]['edges'][1] == ('x', 'r1', 'resconv_1x1 +id')
    # the tool on a genotype file and on a config
    geno = Genotype(choices={'k': 'SPAattention_3'}, network=dict(
        type='TIMFusionNet',
        cells=[dict(type='SuccessiveCell',
                    ops=['SPAattention_3', 'DilConv_3_2'])]))
    geno.dump(str(tmp_path / 'g.yaml'))
    tool = load_tool('tools/analysis_tools/draw_genotype.py')
    out = str(tmp_path / 'new' / 'g.png')  # folders made
    graphs = tool.main([str(tmp_path / 'g.yaml'), '--out', out])
    assert graphs[0]['edges'][1][2] == 'SPAattention_3'
    assert cv2.imread(out) is not None
    graphs = tool.main([osp.join(REPO, 'configs', 'tim',
                                 'fusion_ivif_official.py'), '--out', out])
    assert len(graphs) == 6


def test_draw_genotype_refuses_an_unknown_op(tmp_path):
    """draw_genotype.py drew a genotype whose op exists nowhere."""
    geno = Genotype(choices={'k': 'SPAatention_3'}, network=dict(
        type='TIMFusionNet',
        cells=[dict(type='SuccessiveCell',
                    ops=['SPAatention_3', 'SPAatention_3'])]))
    src = str(tmp_path / 'g.yaml')
    geno.dump(src)
    out = tmp_path / 'g.png'
    tool = load_tool('tools/analysis_tools/draw_genotype.py')
    with pytest.raises(ValueError,
                       match=r"g\.yaml: unknown operator\(s\) "
                       r"'SPAatention_3' \(did you mean 'SPAattention_3'"
                       r".*\) at network\.cells\.0\.ops\.0, "
                       r'network\.cells\.0\.ops\.1'):
        tool.main([src, '--out', str(out)])
    assert not out.exists()
    cfg = tmp_path / 'net.py'
    cfg.write_text(f'model = {geno.network!r}\n')
    with pytest.raises(ValueError, match=r"net\.py: unknown operator\(s\) "
                       r"'SPAatention_3'"):
        tool.main([str(cfg), '--out', str(out)])
    assert not out.exists()


def test_panels_draw_boxes_exactly():
    img = np.zeros((20, 30, 3), np.uint8)
    out = draw_boxes(img, np.array([[2, 3, 10, 12]]), [1], ['a', 'b'])
    assert (out[3, 2:11] == [0, 200, 0]).all()  # top edge, class 1 colour
    assert (out[12, 2:11] == [0, 200, 0]).all()
    assert (out[10:12, 3:10] == 0).all()  # inside (below the label) untouched
    row = sample_panels({'ir': torch.zeros(1, 20, 30, dtype=torch.uint8),
                         'vi': torch.zeros(3, 20, 30, dtype=torch.uint8)})
    assert row.shape == (34, 64, 3)  # 14-px titles, a 4-px gap


def test_browse_and_benchmark(tmp_path):
    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, num=4, seed=3, size=64, val_fraction=0.5)
    browse = load_tool('tools/analysis_tools/browse_dataset.py')
    config = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
    out = str(tmp_path / 'browse')
    written = browse.main([config, '--out', out, '--data-root', root,
                           '--num', '2', '--init', '--cfg-options',
                           'model.fusion_net.channels=4'])
    assert len(written) == 2
    img = cv2.imread(written[0])
    # three 128-px panels (ir, vi, prediction) after the toy 128x128 resize
    assert img.shape[0] == 128 + 14 and img.shape[1] >= 3 * 128
    bench = load_tool('tools/analysis_tools/benchmark.py')
    result = bench.main([
        osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py'), '--shape',
        '32', '40', '--warmup', '1', '--repeats', '2', '--cfg-options',
        'model.fusion_net.channels=4'
    ])
    assert result['fps'] == pytest.approx(1000 / result['median_ms'])
    assert result['min_ms'] <= result['median_ms'] <= result['max_ms']


def test_genotype_drawing_dcnas_and_hbl(tmp_path):
    from mmfusenas.models.gisr.dcnas_space import dcnas_space
    space = dcnas_space(4, 2)
    arch = {k: v[i % len(v)] for i, (k, v) in enumerate(space.items())}
    geno = Genotype(choices=arch, network=dict(type='DCNASNet', arch=arch))
    geno.dump(str(tmp_path / 'dcnas.yaml'))
    out = str(tmp_path / 'dcnas.png')
    graphs = load_tool('tools/analysis_tools/draw_genotype.py').main(
        [str(tmp_path / 'dcnas.yaml'), '--out', out])
    assert cv2.imread(out) is not None
    enc, dec = graphs
    # 2 rows x 4 stages x 2 blocks + 2 fusion inputs per stage
    assert len(enc['edges']) == 16 + 8
    assert ('rgb', 'r00', arch['rgb_encoder.0.0']) in enc['edges']
    assert ('d31', 'F3', arch['fusion.3']) in enc['edges']
    assert [e[2] for e in dec['edges']] == [
        arch[f'decoder.{s}.{b}'] for s in range(4) for b in range(2)]
    # HBL: encoder / decoder with their residual pairs, units as chains
    hbl = cell_graphs(Config.fromfile(
        osp.join(REPO, 'configs', 'hbl', 'hbl_lol.py')).model.to_dict())
    assert [g['title'].split(': ')[1] for g in hbl] == \
        ['HBLEncoder'] + ['HadamardUnit'] * 7 + ['HBLDecoder']
    encoder, decoder = hbl[0], hbl[-1]
    # head + 4 pairs (2 ops + identity each) + 2 down-samplings
    assert len(encoder['edges']) == 1 + 4 * 3 + 2
    assert encoder['edges'][:4] == [
        ('x', 'h', 'dilconv_3x3'), ('h', 't1', 'dilconv_3x3+ReLU'),
        ('t1', 'a1', 'conv_5x5'), ('h', 'a1', '+id')]
    assert len(decoder['edges']) == 2 + 4 * 3 + 1
    assert decoder['edges'][-1] == ('a4', 'y', 'conv_1x1')


def test_benchmark_guided_sr_and_restoration(tmp_path, capsys):
    """benchmark.py builds its batch as the inference APIs do, so guided
    depth SR and hyper-guidance restorers are timed too."""
    from mmfusenas.models.gisr.dcnas_space import dcnas_space
    space = dcnas_space(4, 2)
    arch = {k: v[i % len(v)] for i, (k, v) in enumerate(space.items())}
    cfg_file = str(tmp_path / 'dcnas_fixed.py')
    base = osp.join(REPO, 'configs', 'dcnas', 'supernet_toy_x4.py')
    with open(cfg_file, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f'model = dict(network=dict(arch={arch!r}))\n')
    tool = load_tool('tools/analysis_tools/benchmark.py')
    hqs = osp.join(REPO, 'configs', 'hyper_guidance',
                   'hqs_proxy_bilevel_toy.py')
    for cfg, shape in ((cfg_file, ('64', '64')), (hqs, ('48', '40'))):
        result = tool.main([cfg, '--shape', *shape, '--warmup', '1',
                            '--repeats', '2', '--batch-size', '2'])
        assert result['fps'] > 0
        assert result['min_ms'] <= result['median_ms'] <= result['max_ms']
        out = capsys.readouterr().out
        assert f'{shape[0]} x {shape[1]}' in out
