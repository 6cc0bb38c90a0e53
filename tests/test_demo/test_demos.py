"""demo/video_demo.py (files and --live cameras) and demo/image_demo.py on
synthetic two-stream clips made here: frame counts, readable MP4s, the
fused content, the overlays, and the errors for streams that disagree."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmfusenas.apis import FusionInferencer, result_image
from helpers import (REPO_ROOT, load_tool,
                     save_detecting_checkpoint,
                     save_seeded_checkpoint)
from mmfusenas.testing.toy_data import generate_toy_dataset

VIDEO_DEMO = load_tool('demo/video_demo.py')
STAGES, PairedFrames = VIDEO_DEMO.STAGES, VIDEO_DEMO.PairedFrames
write_pan_clip = VIDEO_DEMO.write_pan_clip

FUSION_CFG = osp.join(REPO_ROOT, 'configs', 'tim', 'fusion_ivif_toy.py')
DET_CFG = osp.join(REPO_ROOT, 'configs', 'tim', 'retinanet_ivif_toy.py')
TINY = ['--cfg-options', 'model.fusion_net.channels=4']

pytestmark = pytest.mark.usefixtures('one_thread')


def read_video(path):
    cap = cv2.VideoCapture(path)
    assert cap.isOpened(), path
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return frames, fps


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    """A toy IR/VIS pair panned into 6-frame 64x48 clips at 5 fps (two
    files and one side by side), plus clips that disagree with them."""
    root = tmp_path_factory.mktemp('clips')
    generate_toy_dataset(str(root / 'toy'), num=2, seed=1, size=96,
                         val_fraction=0.5)
    ir = cv2.imread(str(root / 'toy' / 'ir' / '00000.png'))
    vi = cv2.imread(str(root / 'toy' / 'vi' / '00000.png'))
    c = {k: str(root / f'{k}.mp4') for k in (
        'ir', 'vi', 'sbs', 'vi_fps', 'vi_size', 'vi_short')}
    write_pan_clip(ir, vi, c['ir'], c['vi'], (64, 48), 6, 5.0,
                   side_by_side=c['sbs'])
    write_pan_clip(ir, vi, str(root / 'x.mp4'), c['vi_fps'], (64, 48), 6,
                   10.0)
    write_pan_clip(ir, vi, str(root / 'x.mp4'), c['vi_size'], (80, 48), 6,
                   5.0)
    write_pan_clip(ir, vi, str(root / 'x.mp4'), c['vi_short'], (64, 48), 4,
                   5.0)
    c['fusion_ckpt'] = save_seeded_checkpoint(
        FUSION_CFG, str(root / 'f.pth'), {'model.fusion_net.channels': 4})
    c['det_ckpt'] = save_detecting_checkpoint(DET_CFG, str(root / 'd.pth'))
    return c


@pytest.fixture(scope='module')
def video_demo():
    return VIDEO_DEMO


def test_video_demo_writes_the_fused_stream(clips, video_demo, tmp_path,
                                            capsys):
    out = str(tmp_path / 'out' / 'fused.mp4')
    res = video_demo.main([
        FUSION_CFG, '--weights', clips['fusion_ckpt'], '--ir', clips['ir'],
        '--vi', clips['vi'], '--out', out, '--batch-size', '4'
    ] + TINY)
    assert res['frames'] == 6 and res['size'] == [64, 48]
    assert list(res['ms_per_frame']) == list(STAGES)
    assert res['ms_per_frame']['fuse'] > 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('RESULT ')
    assert json.loads(last[len('RESULT '):])['frames'] == 6
    frames, fps = read_video(out)
    assert len(frames) == 6 and fps == 5.0
    assert frames[0].shape == (48, 64, 3)
    assert os.listdir(osp.dirname(out)) == ['fused.mp4']  # no temp file
    # the content: the inferencer's fused frames of the decoded inputs
    # (batch of 4 + 2), up to the MP4 compression
    inf = FusionInferencer(FUSION_CFG, clips['fusion_ckpt'], device='cpu',
                           cfg_options={'model.fusion_net.channels': 4},
                           show_progress=False)
    irs, vis = read_video(clips['ir'])[0], read_video(clips['vi'])[0]
    ref = inf(list(zip(irs, vis)))['predictions']
    for frame, pred in zip(frames, ref):
        fused = cv2.cvtColor(pred['fused'], cv2.COLOR_GRAY2BGR) \
            if pred['fused'].ndim == 2 else pred['fused']
        diff = np.abs(frame.astype(int) - fused.astype(int))
        assert diff.mean() < 4, diff.mean()


def test_video_demo_results_record(clips, video_demo, tmp_path):
    """--results-json writes a record with the command, the machine and one
    row (fps and ms per stage of the RESULT) that results_to_docs renders;
    a record path in a missing folder is refused before any work."""
    rec = tmp_path / 'video_demo_x.json'
    argv = [FUSION_CFG, '--weights', clips['fusion_ckpt'], '--ir',
            clips['ir'], '--vi', clips['vi'], '--batch-size', '2',
            '--results-json', str(rec)] + TINY
    res = video_demo.main(argv)
    record = json.loads(rec.read_text())
    assert record['command'].startswith('python demo/video_demo.py ')
    assert record['command'].endswith(' '.join(TINY))
    assert set(record['machine']) >= {'cpu_model', 'cores', 'threads'}
    assert record['count'] == 'frames' and 'Load average' in record['note']
    (table, rows), = record['result'].items()
    assert table == '64x48 two-stream video at 5 fps'
    row = rows[osp.basename(FUSION_CFG)]
    assert row['fps'] == res['fps'] and row['frames'] == 6
    assert [row[f'{s}_ms'] for s in STAGES] == [
        res['ms_per_frame'][s] for s in STAGES]
    assert record['metrics'] == ['fps'] + [f'{s}_ms' for s in STAGES]
    rendered = load_tool('tools/misc/results_to_docs.py').render(record)
    assert '**64x48 two-stream video at 5 fps** (6 frames)' in rendered
    with pytest.raises(FileNotFoundError, match='does not exist'):
        video_demo.main(argv[:-1 - len(TINY)] + [
            str(tmp_path / 'missing' / 'r.json')] + TINY)


def test_side_by_side_panels_and_limits(clips, video_demo, tmp_path):
    out = str(tmp_path / 'panels.mp4')
    res = video_demo.main([
        FUSION_CFG, '--weights', clips['fusion_ckpt'], '--side-by-side',
        clips['sbs'], '--out', out, '--panels', '--max-frames', '3'
    ] + TINY)
    assert res['frames'] == 3
    frames, _ = read_video(out)
    # ir | 4 px | vi | 4 px | fused, 14 px title bars (even sizes kept)
    assert len(frames) == 3 and frames[0].shape == (48 + 14, 3 * 64 + 8, 3)
    # the halves of the side-by-side file are the two streams
    pair = PairedFrames(side_by_side=clips['sbs']).read()
    two = PairedFrames(ir=clips['ir'], vi=clips['vi']).read()
    for name in ('ir', 'vi'):
        assert np.abs(pair[name].astype(int) - two[name]).mean() < 4
    swapped = PairedFrames(side_by_side=clips['sbs'], left='vi').read()
    assert np.array_equal(swapped['vi'], pair['ir'])


def test_video_demo_draws_detections(clips, video_demo, tmp_path):
    out = str(tmp_path / 'det.mp4')
    res = video_demo.main([
        DET_CFG, '--weights', clips['det_ckpt'], '--ir', clips['ir'],
        '--vi', clips['vi'], '--out', out, '--pred-score-thr', '0.5',
        '--max-frames', '2', '--batch-size', '2'
    ])
    assert res['frames'] == 2 and res['ms_per_frame']['task'] > 0
    frames, _ = read_video(out)
    inf = FusionInferencer(DET_CFG, clips['det_ckpt'], device='cpu',
                           show_progress=False)
    irs, vis = read_video(clips['ir'])[0], read_video(clips['vi'])[0]
    preds = inf(list(zip(irs[:2], vis[:2])),
                return_datasamples=True)['predictions']
    for frame, pred in zip(frames, preds):
        plain = inf.overlay(pred, draw_pred=False)
        drawn = inf.overlay(pred, pred_score_thr=0.5)
        boxes = (drawn != plain).any(2)
        assert boxes.mean() > 0.02  # boxes are drawn
        err = np.abs(frame.astype(int) - plain.astype(int)).max(2)
        # where boxes are the frame is far from the plain fused frame
        assert err[boxes].mean() > 3 * err[~boxes].mean() + 10
        assert result_image(pred).shape[:2] == (128, 128)  # model's size


@pytest.mark.parametrize('case, match', [
    ('vi_fps', 'frame rates differ: ir .* 5 fps, vi .* 10 fps'),
    ('vi_size', 'frame sizes differ: ir .* 64x48, vi .* 80x48'),
    ('vi_short', 'unequal lengths: ir .* 6 frames, vi .* 4 frames'),
    ('missing', 'vi video not found'),
])
def test_streams_that_disagree_are_refused(clips, video_demo, tmp_path,
                                           case, match):
    out = str(tmp_path / 'x.mp4')
    vi = clips.get(case, str(tmp_path / 'none.mp4'))
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        video_demo.main([FUSION_CFG, '--ir', clips['ir'], '--vi', vi,
                         '--out', out] + TINY)
    assert not os.listdir(tmp_path)  # nothing written


def test_documented_options_resolve_disagreements(clips, video_demo,
                                                  tmp_path):
    base = [FUSION_CFG, '--weights', clips['fusion_ckpt'], '--ir',
            clips['ir']] + TINY
    res = video_demo.main(base + ['--vi', clips['vi_short'],
                                  '--stop-at-shortest'])
    assert res['frames'] == 4
    res = video_demo.main(base + ['--vi', clips['vi_size'], '--resize-to',
                                  '32x24', '--out',
                                  str(tmp_path / 'r.mp4')])
    assert res['size'] == [32, 24]
    frames, _ = read_video(str(tmp_path / 'r.mp4'))
    assert len(frames) == 6 and frames[0].shape == (24, 32, 3)
    res = video_demo.main(base + ['--vi', clips['vi_fps'], '--fps-tolerance',
                                  '5'])
    assert res['frames'] == 6 and res['input_fps'] == 5.0


def test_live_demo_without_cameras_exits_cleanly(video_demo, capsys):
    with pytest.raises(SystemExit) as exited:
        video_demo.main([FUSION_CFG, '--ir', '97', '--vi', '98', '--live'])
    assert exited.value.code == video_demo.EXIT_NO_CAMERA == 3
    err = capsys.readouterr().err
    assert "cannot open the ir capture device 97" in err
    assert 'two capture devices are needed' in err
    # cameras 0 and 1 by default; a missing video file is no camera error
    args = video_demo.parse_args([FUSION_CFG, '--live'])
    assert (args.ir, args.vi) == ('0', '1')
    with pytest.raises(FileNotFoundError, match='ir video not found: a.mp4'):
        video_demo.main([FUSION_CFG, '--ir', 'a.mp4', '--vi', '1', '--live'])


def test_image_demo_on_folders(clips, tmp_path, capsys):
    root = osp.dirname(clips['ir'])
    toy = osp.join(root, 'toy')
    out = str(tmp_path / 'out')
    res = load_tool('demo/image_demo.py').main([
        osp.join(toy, 'ir'), osp.join(toy, 'vi'), DET_CFG, '--weights',
        clips['det_ckpt'], '--out-dir', out
    ])
    stems = ['00000', '00001']
    assert [p['stem'] for p in res['predictions']] == stems
    for sub, ext in (('vis', '.png'), ('fused', '.png'), ('panels', '.png'),
                     ('preds', '.json')):
        assert sorted(os.listdir(osp.join(out, sub))) == [
            s + ext for s in stems]
    with open(osp.join(out, 'preds', '00000.json')) as f:
        js = json.load(f)
    assert js['labels'] == res['predictions'][0]['labels']
    assert f'wrote 2 result(s) to {out}' in capsys.readouterr().out
    with pytest.raises(ValueError, match='two files or two folders'):
        load_tool('demo/image_demo.py').main([
            osp.join(toy, 'ir'), osp.join(toy, 'vi', '00000.png'), DET_CFG])


def test_paired_frames_arguments(clips, video_demo):
    with pytest.raises(ValueError, match='give both the ir and the vi'):
        PairedFrames(ir=clips['ir'])
    with pytest.raises(ValueError, match='not both'):
        PairedFrames(ir=clips['ir'], vi=clips['vi'],
                     side_by_side=clips['sbs'])
    with pytest.raises(ValueError, match="left must be 'ir' or 'vi'"):
        PairedFrames(side_by_side=clips['sbs'], left='x')
    with pytest.raises(ValueError, match='--ir/--vi or --side-by-side'):
        video_demo.main([FUSION_CFG, '--ir', clips['ir'], '--side-by-side',
                         clips['sbs']])
    with pytest.raises(SystemExit):
        video_demo.parse_args([FUSION_CFG, '--resize-to', '64by48'])
    frames = PairedFrames(ir=clips['ir'], vi=clips['vi'])
    assert (frames.fps, frames.size, frames.num_frames) == (5.0, (64, 48), 6)
    frames.release()
