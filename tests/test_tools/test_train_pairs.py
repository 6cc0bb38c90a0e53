"""tools/train.py --pairs IR_DIR VI_DIR: a fusion config on a folder of the
user's pairs (stems matched, one in ten held out), and a failed start
leaving nothing behind."""
import logging
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmfusenas.registry import DATASETS
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FUSION = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')
DETECTION = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
SMALL = ['--cfg-options', 'train_dataloader.dataset.pipeline.1.crop_size='
         '[16,16]', 'train_dataloader.batch_size=2']


@pytest.fixture(scope='module')
def train():
    return load_tool('tools/train.py')


def write_pairs(root, num, sizes=((24, 24), (24, 24))):
    """``num`` tiny PNG pairs ``p00 ...`` in ``root/ir`` and ``root/vi``
    (the VI images of odd stems as JPEG: extensions may differ)."""
    rng = np.random.default_rng(0)
    folders = [osp.join(root, 'ir'), osp.join(root, 'vi')]
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
    for i in range(num):
        for folder, size, ext in zip(folders, sizes,
                                     ('.png', '.jpg' if i % 2 else '.png')):
            img = (rng.random(size) * 255).astype(np.uint8)
            Image.fromarray(img).save(osp.join(folder, f'p{i:02d}{ext}'))
    return folders


def build(train, argv, notes=None):
    return train.build_config(train.parse_args(argv), notes)


def stems(dataset_cfg):
    dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
    return [dataset[i]['stem'] for i in range(len(dataset))]


def test_pairs_hold_out_one_in_ten_by_name(train, tmp_path):
    ir, vi = write_pairs(str(tmp_path / 'mine'), 25)
    notes = []
    cfg = build(train, [FUSION, '--pairs', ir, vi, '--work-dir',
                        str(tmp_path / 'w')], notes)
    train_stems = stems(cfg.train_dataloader.dataset)
    val_stems = stems(cfg.val_dataloader.dataset)
    # 25 pairs: 2 held out, the middle of each half
    assert val_stems == ['p06', 'p18']
    assert train_stems == [f'p{i:02d}' for i in range(25)
                           if i not in (6, 18)]
    assert stems(cfg.test_dataloader.dataset) == val_stems
    assert notes[0] == (logging.INFO, (
        f'--pairs: 25 pairs matched by stem in {ir} and {vi} (ir / vi): 23 '
        'train, 2 held out for validation (one in every 10 in name order, '
        'at least one): p06, p18'))
    # the same folders, the same split
    again = build(train, [FUSION, '--pairs', ir, vi])
    assert again.val_dataloader.dataset.indices == \
        cfg.val_dataloader.dataset.indices
    # two pairs: one trains, one is held out
    ir2, vi2 = write_pairs(str(tmp_path / 'two'), 2)
    cfg = build(train, [FUSION, '--pairs', ir2, vi2])
    assert stems(cfg.train_dataloader.dataset) == ['p00']
    assert stems(cfg.val_dataloader.dataset) == ['p01']


def test_pairs_runs_have_their_own_work_dir(train, tmp_path):
    """A ``--pairs`` run does not share the work dir of the config's own
    runs (its toy data): ``work_dirs/<config name>_pairs``, unless
    ``--work-dir`` (or ``--cfg-options work_dir=``) says otherwise."""
    ir, vi = write_pairs(str(tmp_path / 'mine'), 3)
    notes = []
    cfg = build(train, [FUSION, '--pairs', ir, vi], notes)
    assert cfg.work_dir == osp.join('./work_dirs', 'fusion_ivif_toy_pairs')
    assert (logging.INFO, f'--pairs: work dir {cfg.work_dir}, not the one '
            "of the config's own data (--work-dir sets another)") in notes
    assert build(train, [FUSION]).work_dir == osp.join(
        './work_dirs', 'fusion_ivif_toy')
    mine = str(tmp_path / 'w')
    notes = []
    assert build(train, [FUSION, '--pairs', ir, vi, '--work-dir', mine],
                 notes).work_dir == mine
    assert not [n for n in notes if 'work dir' in n[1]]
    assert build(train, [FUSION, '--pairs', ir, vi, '--cfg-options',
                         f'work_dir={mine}']).work_dir == mine


def test_pairs_are_refused_clearly(train, tmp_path):
    ir, vi = write_pairs(str(tmp_path / 'mine'), 4)
    Image.fromarray(np.zeros((24, 24), np.uint8)).save(
        osp.join(ir, 'lonely.png'))
    with pytest.raises(ValueError) as err:
        build(train, [FUSION, '--pairs', ir, vi])
    assert str(err.value).startswith(
        f'--pairs: 1 image(s) of {ir} have no file of the same stem in {vi}: '
        'lonely.')
    one_ir, one_vi = write_pairs(str(tmp_path / 'one'), 1)
    with pytest.raises(ValueError, match=r'--pairs needs at least 2 pairs .*'
                       f'{one_ir} and {one_vi} hold 1'):
        build(train, [FUSION, '--pairs', one_ir, one_vi])
    with pytest.raises(FileNotFoundError, match='--pairs: .*nowhere is not '
                       'a folder'):
        build(train, [FUSION, '--pairs', one_ir, str(tmp_path / 'nowhere')])
    # one folder twice, or a link to it, would train IR with IR
    link = str(tmp_path / 'link')
    os.symlink(one_ir, link)
    for other in (one_ir, link, one_ir + os.sep):
        with pytest.raises(ValueError) as err:
            build(train, [FUSION, '--pairs', one_ir, other])
        assert str(err.value) == (
            f'--pairs: {one_ir} and {other} are the same folder ({one_ir}):'
            ' give the ir folder, then the vi one')
    with pytest.raises(ValueError, match='--pairs and --data-root'):
        build(train, [FUSION, '--pairs', one_ir, one_vi, '--data-root',
                      str(tmp_path)])
    with pytest.raises(ValueError, match=r'--pairs trains fusion configs.*'
                       r'train_dataloader\.dataset of .* is PairedDetDataset'):
        build(train, [DETECTION, '--pairs', one_ir, one_vi])


def test_a_short_run_on_pairs_finishes_on_cpu(train, tmp_path):
    # (the validation's VIF needs 41x41 pixels at least)
    ir, vi = write_pairs(str(tmp_path / 'mine'), 4, sizes=((48, 48), ) * 2)
    work = tmp_path / 'work'
    train.main([FUSION, '--pairs', ir, vi, '--work-dir', str(work),
                '--max-iters', '2'] + SMALL)
    assert (work / 'iter_2.pth').is_file()
    # validated once, at the end, on the held-out pair
    fused = list(work.glob('*/fused_val/iter_2/*.png'))
    assert [p.name for p in fused] == ['p02.png']


def test_a_failed_start_leaves_no_folder(train, tmp_path):
    # pairs of different sizes: refused when the first batch is loaded
    ir, vi = write_pairs(str(tmp_path / 'mine'), 4,
                         sizes=((24, 24), (20, 20)))
    work = tmp_path / 'work'
    with pytest.raises(Exception, match='size'):
        train.main([FUSION, '--pairs', ir, vi, '--work-dir', str(work),
                    '--max-iters', '2'] + SMALL)
    assert not work.exists()
    # a work dir that was there keeps what it held, and loses the log folder
    work.mkdir()
    (work / 'notes.txt').write_text('mine')
    with pytest.raises(Exception, match='size'):
        train.main([FUSION, '--pairs', ir, vi, '--work-dir', str(work),
                    '--max-iters', '2'] + SMALL)
    assert sorted(p.name for p in work.iterdir()) == [
        '.mmfusenas.lock', 'notes.txt']


def test_missing_fusion_data_points_at_pairs(tmp_path, monkeypatch):
    from mmengine.config import Config

    from mmfusenas.utils.data_folders import check_data_folders
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tim',
                                   'fusion_ivif_tno.py'))
    with pytest.raises(FileNotFoundError) as err:
        check_data_folders(cfg, 'train')
    assert 'tools/train.py CONFIG --pairs IR_DIR VI_DIR' in str(err.value)
    with pytest.raises(FileNotFoundError) as err:  # tools/test.py
        check_data_folders(cfg, 'test')
    assert '--pairs' not in str(err.value)
