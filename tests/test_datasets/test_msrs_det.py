"""MSRS_det: the frame-block split (no neighbour leak), its three YOLO label
sets converted to COCO and loaded as mmdet boxes, and bad input named."""
import os
import os.path as osp
import shutil

import cv2
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.datasets.frame_block_split import (MSRS_DET_SPLIT,
                                                  block_split, frame_number,
                                                  min_cross_split_distance)
from mmfusenas.registry import DATASETS
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'msrs_det.py')
SPLIT_DIR = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits',
                     'msrs_det')
CLASSES = ('person', 'bicycle', 'car')


def test_block_split_by_hand():
    stems = [f'{n:05d}{"D" if n < 30 else "N"}' for n in range(0, 40, 2)]
    split = block_split(stems, block_size=10,
                        blocks=('train', 'test', 'train', 'val'), gap=2)
    # block 1 (10-19) is test: 8 and 10 are within the gap of the boundary
    # at 10 (8: 10 - 8 <= 2; 10: 10 - 10 < 2), 18 and 20 of the one at 20
    assert split['test'] == ['00012D', '00014D', '00016D']
    assert split['train'] == ['00000D', '00002D', '00004D', '00006D',
                              '00022D', '00024D', '00026D']
    assert split['val'] == ['00032N', '00034N', '00036N', '00038N']
    assert split['gap'] == ['00008D', '00010D', '00018D', '00020D',
                            '00028D', '00030N']
    dist, pair = min_cross_split_distance(split)
    assert dist == 6 and pair == ('00006D', '00012D')  # > 2 * gap
    assert frame_number('00412D') == 412
    with pytest.raises(ValueError, match='share frame number 4'):
        block_split(['00004D', '00004N'], 10, ('train', ), 2)
    with pytest.raises(ValueError, match='blocks must name splits'):
        block_split(['00004D'], 10, ('train', 'holdout'), 2)
    with pytest.raises(ValueError, match='block_size > 2 \\* gap'):
        block_split(['00004D'], 4, ('train', ), 2)


def _read(name):
    with open(osp.join(SPLIT_DIR, name)) as f:
        return [ln.strip() for ln in f if ln.strip()
                and not ln.startswith('#')]


def test_committed_split_has_no_neighbour_leak(shared_data, tmp_path):
    split = {k: _read(f'{k}.txt') for k in ('train', 'val', 'test', 'gap')}
    assert [len(split[k]) for k in ('train', 'val', 'test', 'gap')] == \
        [142, 59, 58, 48]
    root = osp.join(shared_data, 'detection', 'MSRS_det')
    every = sorted(osp.splitext(n)[0] for n in os.listdir(osp.join(root,
                                                                   'ir')))
    assert sorted(sum(split.values(), [])) == every  # a partition
    # any train frame and any test / val frame are > 32 numbers apart
    # (about 8 frames at MSRS's step of ~4)
    for a, b in (('train', 'test'), ('train', 'val'), ('val', 'test')):
        gap = min(abs(frame_number(s) - frame_number(t))
                  for s in split[a] for t in split[b])
        assert gap >= 33, (a, b, gap)
    assert min_cross_split_distance(split)[0] == 33
    # both day and night in the test split
    assert {s[-1] for s in split['test']} == {'D', 'N'}
    # the tool writes exactly the committed lists
    load_tool('tools/dataset_converters/make_msrs_det_split.py').main(
        ['--data-root', root, '--out', str(tmp_path)])
    for name in ('train.txt', 'val.txt', 'test.txt', 'gap.txt'):
        with open(osp.join(SPLIT_DIR, name)) as f, \
                open(tmp_path / name) as g:
            assert f.read() == g.read()
    assert MSRS_DET_SPLIT['gap'] * 2 < 33


@pytest.fixture(scope='module')
def converted(shared_data, tmp_path_factory):
    """The committed split of MSRS_det as COCO jsons of each label set, as
    the config's comment writes them: labels -> {split: coco dict}."""
    tool = load_tool('tools/dataset_converters/paired_to_coco.py')
    out = tmp_path_factory.mktemp('msrs_det_coco')
    root = osp.join(shared_data, 'detection', 'MSRS_det')
    jsons = {}
    for labels in ('fusion', 'infrared', 'visible'):
        written = tool.main([
            'yolo', root, str(out / f'{labels}_{{split}}.json'), '--labels',
            f'labels/{labels}', '--split'
        ] + [osp.join(SPLIT_DIR, f'{k}.txt') for k in ('train', 'val',
                                                        'test')])
        jsons[labels] = {
            k: written[str(out / f'{labels}_{k}.json')]
            for k in ('train', 'val', 'test')}
    return root, str(out), jsons


def test_converted_splits_hold_the_split_stems(converted):
    """Each json holds exactly its split file's pairs: the test frames never
    reach the training or validation json."""
    _, _, jsons = converted
    for split in ('train', 'val', 'test'):
        stems = [osp.splitext(i['file_name'])[0]
                 for i in jsons['fusion'][split]['images']]
        assert stems == sorted(_read(f'{split}.txt'))
    test = set(_read('test.txt'))
    for split in ('train', 'val'):
        assert not test & {osp.splitext(i['file_name'])[0]
                           for i in jsons['fusion'][split]['images']}
    counts = [len(jsons['fusion'][k]['annotations'])
              for k in ('train', 'val', 'test')]
    assert counts == [609, 229, 260]


@pytest.mark.parametrize('labels', ['fusion', 'infrared', 'visible'])
def test_yolo_labels_load_as_mmdet_boxes(converted, labels):
    root, out, _ = converted
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmfusenas')
    ds_cfg = cfg.test_dataloader.dataset
    assert ds_cfg.data_root == '../shared/data/detection/MSRS_det/'
    assert osp.realpath(ds_cfg.ann_file) == osp.join(
        REPO, 'data', 'MSRS_det', 'annotations', 'fusion_test.json')
    ds_cfg.data_root = root + '/'
    ds_cfg.ann_file = osp.join(out, f'{labels}_test.json')
    ds = DATASETS.build(ds_cfg)
    assert ds.metainfo['classes'] == CLASSES and len(ds) == 58
    total = 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        path = osp.join(root, 'labels', labels, info['stem'] + '.txt')
        with open(path) as f:
            rows = [ln.split() for ln in f if ln.strip()]
        assert len(info['instances']) == len(rows)
        total += len(rows)
        for inst, row in zip(info['instances'], rows):
            cls, cx, cy, w, h = int(row[0]), *map(float, row[1:])
            assert inst['bbox_label'] == cls
            x1, y1 = (cx - w / 2) * 640, (cy - h / 2) * 480
            x2, y2 = (cx + w / 2) * 640, (cy + h / 2) * 480
            want = [max(x1, 0), max(y1, 0), min(x2, 640), min(y2, 480)]
            assert inst['bbox'] == pytest.approx(want, abs=1e-9)
    assert total > 0


def _tiny_copy(shared_data, tmp_path):
    src = osp.join(shared_data, 'detection', 'MSRS_det')
    root = tmp_path / 'msrs'
    for sub in ('ir', 'vi', 'labels/fusion'):
        os.makedirs(root / sub)
    shutil.copy(osp.join(src, 'classes.txt'), root)
    for stem in ('00004N', '00008N'):
        for sub in ('ir', 'vi'):
            shutil.copy(osp.join(src, sub, stem + '.jpg'), root / sub)
        shutil.copy(osp.join(src, 'labels', 'fusion', stem + '.txt'),
                    root / 'labels' / 'fusion')
    return root


@pytest.mark.parametrize('case', ['class', 'outside', 'missing', 'size'])
def test_bad_input_names_the_file(shared_data, tmp_path, case):
    root = _tiny_copy(shared_data, tmp_path)
    tool = load_tool('tools/dataset_converters/paired_to_coco.py')
    label = root / 'labels' / 'fusion' / '00004N.txt'
    if case == 'class':
        label.write_text(label.read_text() + '\n3 0.5 0.5 0.1 0.1\n')
        text = (f'{label}:6: class index 3 out of range [0, 3) of the '
                f'classes of {root}/classes.txt')
    elif case == 'outside':
        label.write_text(label.read_text() + '\n0 1.5 1.5 0.1 0.1\n')
        text = (f"{label}:6: coordinates ['1.5', '1.5', '0.1', '0.1'] are "
                'not normalised to [0, 1]')
    elif case == 'missing':
        label.unlink()
        text = f'{root}/labels/fusion (yolo): no labels for 1 pair(s)'
    else:
        vi = root / 'vi' / '00008N.jpg'
        cv2.imwrite(str(vi), cv2.imread(str(vi))[:400])
        text = (f"'00008N': ir=480x640 ({root}/ir/00008N.jpg), "
                f'vi=400x640 ({vi})')
    with pytest.raises(ValueError) as info:
        tool.main(['yolo', str(root), str(tmp_path / 'x.json'), '--labels',
                   'labels/fusion'])
    assert text in str(info.value)
    assert not osp.exists(tmp_path / 'x.json')
    if case == 'missing':
        assert str(info.value).endswith('\n  00004N')
