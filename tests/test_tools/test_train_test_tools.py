"""End to end: tools/train.py on toy data, bit-exact resume, tools/test.py."""
import glob
import json
import os.path as osp

import cv2
import pytest
import torch

from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'baselines', 'fusion_toy.py')


def overrides(toy_root, max_iters=6):
    opts = [
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=3',
        'default_hooks.checkpoint.interval=3', 'default_hooks.logger.interval=1',
        'log_processor.window_size=1', 'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.1.crop_size=[32,32]'
    ]
    for split in ('train', 'val', 'test'):
        opts.append(f'{split}_dataloader.dataset.data_root={toy_root}')
    return ['--cfg-options'] + opts


def train_losses(work_dir):
    (scalars, ) = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json'))
    losses = {}
    with open(scalars) as f:
        for line in f:
            rec = json.loads(line)
            if 'loss' in rec:
                losses[rec['iter']] = (rec['loss'], rec['loss_int'],
                                       rec['loss_grad'])
    return losses


def test_train_validate_checkpoint_and_bit_exact_resume(toy_root, tmp_path):
    train = load_tool('tools/train.py')
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    train.main([CONFIG, '--work-dir', full] + overrides(toy_root))
    for it in (3, 6):
        assert osp.isfile(osp.join(full, f'iter_{it}.pth'))
    # validation wrote one fused PNG per val image, at the image size
    fused = sorted(
        glob.glob(osp.join(full, '*', 'fused_val', 'iter_6', '*.png')))
    with open(osp.join(toy_root, 'splits', 'val.txt')) as f:
        val_stems = sorted(line.strip() for line in f if line.strip())
    assert [osp.basename(p)[:-4] for p in fused] == val_stems
    assert cv2.imread(fused[0]).shape == (64, 64, 3)

    train.main([
        CONFIG, '--work-dir', resumed, '--resume',
        osp.join(full, 'iter_3.pth')
    ] + overrides(toy_root))
    ref, again = train_losses(full), train_losses(resumed)
    assert sorted(ref) == [1, 2, 3, 4, 5, 6]
    assert sorted(again) == [4, 5, 6]
    for it in (4, 5, 6):
        assert again[it] == ref[it]  # bit-exact, not approximately
    state_a = torch.load(osp.join(full, 'iter_6.pth'))['state_dict']
    state_b = torch.load(osp.join(resumed, 'iter_6.pth'))['state_dict']
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_test_tool_writes_fused_images(toy_root, tmp_path, capsys):
    """``--out-dir D`` writes ``D/<stem>.png`` (it wrote ``D/fused_test/``
    while its help said 'write the fused images here'), and the test loop
    shows a progress bar (it printed nothing until the metrics)."""
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    work = str(tmp_path / 'w')
    train.main([CONFIG, '--work-dir', work] + overrides(toy_root, 3))
    out = str(tmp_path / 'fused')
    capsys.readouterr()
    test.main([
        CONFIG,
        osp.join(work, 'iter_3.pth'), '--work-dir', work, '--out-dir', out
    ] + overrides(toy_root, 3))
    with open(osp.join(toy_root, 'splits', 'val.txt')) as f:
        val_stems = sorted(line.strip() for line in f if line.strip())
    written = sorted(osp.basename(p)[:-4]
                     for p in glob.glob(osp.join(out, '*.png')))
    assert written == val_stems
    assert not osp.exists(osp.join(out, 'fused_test'))
    stdout = capsys.readouterr().out
    n = -(-len(val_stems) // 4)  # batches of fusion_toy.py's test loader
    assert f'testing {n} batch(es):' in stdout
    assert f'{n}/{n} (100%)' in stdout


def test_missing_files_are_reported(tmp_path):
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        train.main([str(tmp_path / 'nope.py')])
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        train.main([CONFIG, '--resume', str(tmp_path / 'gone.pth')])
    with pytest.raises(FileNotFoundError, match='ckpt.pth'):
        test.main([CONFIG, str(tmp_path / 'ckpt.pth')])
