"""mmfusenas.apis on shared images: exact agreement with the tools."""
import glob
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmfusenas.apis import (inference_enhancer, inference_fusion,
                            inference_model, init_model, result_image)
from mmfusenas.apis.inference import make_data_info
from mmfusenas.models.enhancers import to_uint8_rgb
from helpers import load_tool, save_seeded_checkpoint
from mmfusenas.testing.toy_data.lowlight_tasks import generate_toy_exdark

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FUSION_CFG = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')
RUAS_CFG = osp.join(REPO, 'configs', 'ruas', 'ruas_a_toy.py')
DET_CFG = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
SCENE_CFG = osp.join(REPO, 'configs', 'ruas', 'ssd_exdark_toy.py')
TINY = dict(model=dict(fusion_net=dict(channels=4)))

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def tno(shared_data, tmp_path_factory):
    """Two TNO pairs (one 475x575, not a multiple of 4)."""
    root = tmp_path_factory.mktemp('tno')
    for folder in ('ir', 'vi'):
        os.makedirs(root / folder)
        for stem in ('05', '07'):
            shutil.copy(
                osp.join(shared_data, 'fusion', 'TNO', folder, f'{stem}.png'),
                root / folder)
    return root


def test_fusion_api_equals_fuse_tool(tno, tmp_path):
    ckpt = save_seeded_checkpoint(FUSION_CFG, str(tmp_path / 'f.pth'),
                                  {'model.fusion_net.channels': 4})
    model = init_model(FUSION_CFG, ckpt, cfg_options=TINY)
    assert not model.training and model.cfg.model.fusion_net.channels == 4
    ir, vi = str(tno / 'ir' / '05.png'), str(tno / 'vi' / '05.png')
    sample = inference_fusion(model, dict(vi=vi, ir=ir))
    assert sample.pred_fused.shape == (1, 475, 575)
    # positional paths follow the config's modality order (ir, vi)
    same = inference_model(model, [ir, vi])
    assert torch.equal(same.pred_fused, sample.pred_fused)
    # the fusion network by hand: zero pad to x4, crop back, clamp
    x = torch.from_numpy(
        np.stack([cv2.imread(p, 0) for p in (ir, vi)])).float()[None] / 255
    with torch.no_grad():
        ref = model.fusion_net(
            torch.nn.functional.pad(x, (0, 1, 0, 1))).clamp(0, 1)
    torch.testing.assert_close(
        sample.pred_fused, ref[0, :, :475, :575], rtol=0, atol=1e-6)
    # batch of two = one by one
    batch = inference_fusion(
        model, [[ir, vi], [str(tno / 'ir' / '07.png'),
                           str(tno / 'vi' / '07.png')]], batch=True)
    assert [s.stem for s in batch] == ['05', '07']
    assert torch.equal(batch[0].pred_fused, sample.pred_fused)
    # the written PNG of tools/fuse.py is the API's result image
    out = str(tmp_path / 'out')
    load_tool('tools/fuse.py').main([
        FUSION_CFG, ckpt, '--ir', str(tno / 'ir'), '--vi',
        str(tno / 'vi'), '--out', out, '--cfg-options',
        'model.fusion_net.channels=4'
    ])
    for stem in ('05', '07'):
        # one pair at a time (a batch pads both to the larger size)
        single = inference_fusion(
            model, [str(tno / m / f'{stem}.png') for m in ('ir', 'vi')])
        written = cv2.imread(osp.join(out, f'{stem}.png'),
                             cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(written, result_image(single))


def test_fusion_api_errors(tmp_path):
    model = init_model(FUSION_CFG, cfg_options=TINY)
    with pytest.raises(FileNotFoundError, match=r"image file 'nope\.png' "
                       r"\(modality 'ir'\) does not exist"):
        inference_fusion(model, dict(ir='nope.png', vi='nope.png'))
    with pytest.raises(ValueError, match='2 modalities'):
        inference_fusion(model, ['a.png'])
    with pytest.raises(TypeError, match='as an enhancement model'):
        inference_enhancer(model, 'a.png')
    with pytest.raises(FileNotFoundError,
                       match='checkpoint .* does not exist'):
        init_model(FUSION_CFG, str(tmp_path / 'none.pth'))
    with pytest.raises(FileNotFoundError, match='config file not found'):
        init_model(str(tmp_path / 'none.py'))


def test_enhancer_api_equals_enhance_tool(shared_data, tmp_path):
    ckpt = save_seeded_checkpoint(RUAS_CFG, str(tmp_path / 'r.pth'))
    src = tmp_path / 'low'
    os.makedirs(src)
    img = cv2.imread(osp.join(shared_data, 'lowlight', 'lol', 'test',
                              '00001.png'))
    cv2.imwrite(str(src / 'a.png'), img[:96, :128])
    cfg = Config.fromfile(RUAS_CFG)
    cfg.model.pred_quantize = None
    model = init_model(cfg, ckpt)
    sample = inference_enhancer(model, str(src / 'a.png'))
    assert sample.pred_img.shape == (3, 96, 128)
    out = str(tmp_path / 'out')
    load_tool('tools/enhance.py').main(
        [RUAS_CFG, ckpt, '--input', str(src), '--out', out])
    written = cv2.imread(osp.join(out, 'a.png'))[..., ::-1]
    np.testing.assert_array_equal(written, to_uint8_rgb(sample.pred_img))


def test_compound_models_return_task_predictions_and_image(tno, tmp_path):
    det = init_model(DET_CFG)
    sample = inference_fusion(
        det, [str(tno / 'ir' / '07.png'), str(tno / 'vi' / '07.png')])
    assert sample.pred_fused.shape == (1, 128, 128)  # the pipeline resize
    assert 'pred_instances' in sample
    assert sample.pred_instances.bboxes.shape[1] == 4
    assert result_image(sample).shape == (128, 128)

    root = str(tmp_path / 'exdark')
    generate_toy_exdark(root, num_train=2, num_val=2, size=64, seed=1)
    (img, ) = sorted(glob.glob(osp.join(root, 'images', '*.png'),
                               ))[:1]
    scene = init_model(SCENE_CFG)
    sample = inference_enhancer(scene, img)
    assert 'pred_instances' in sample and sample.pred_img.shape[0] == 3
    assert result_image(sample).ndim == 3
    info = make_data_info(scene.cfg, img)
    assert info['img_path'] == img


def test_inference_model_runs_other_models_through_the_pipeline(tno):
    """A model outside the known families (a stand-in for a restoration
    model) runs through the test pipeline and test_step."""
    from mmengine.model import BaseModel

    class Mean(BaseModel):

        def forward(self, inputs, data_samples=None, mode='tensor'):
            for img, sample in zip(inputs['ir'], data_samples):
                sample.set_field(img.float().mean() / 255, 'pred_mean')
            return data_samples

    model = Mean()
    model.cfg = Config.fromfile(FUSION_CFG)
    ir = str(tno / 'ir' / '07.png')
    sample = inference_model(model, [ir, str(tno / 'vi' / '07.png')])
    expected = cv2.imread(ir, 0).astype(np.float64).mean() / 255
    assert float(sample.pred_mean) == pytest.approx(expected, abs=1e-6)
    with pytest.raises(TypeError, match='no inference function for Mean'):
        inference_fusion(model, [ir, ir])
