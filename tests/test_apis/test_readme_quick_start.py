"""The README's Python quick start runs as written (stand-in weights)."""
import os
import os.path as osp
import re

import cv2
import numpy as np
import torch
from mmengine.config import Config

from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_readme_quick_start(shared_data, tmp_path, monkeypatch):
    with open(osp.join(REPO, 'README.md')) as f:
        text = f.read()
    section = text[text.index('### Quick start from Python'):]
    code = re.search(r'```python\n(.*?)```', section, re.S)[1]
    assert len(code.strip().splitlines()) == 5
    # stand-ins, to keep the test fast on 2 shared cores: the official
    # light model (same API, 1/10 of the full model's cost) with seeded
    # weights for the converted official weights
    assert "'configs/tim/fusion_ivif_official.py'" in code
    code = code.replace('fusion_ivif_official.py',
                        'fusion_ivif_light_official.py')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'fusion_ivif_light_official.py'))
    torch.manual_seed(0)
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()},
               str(tmp_path / 'tim_ivif.pth'))
    os.symlink(osp.join(REPO, 'configs'), tmp_path / 'configs')
    # ../shared/data from the repository root = shared_data
    code = code.replace('../shared/data', shared_data)
    code = code.replace('/01.png', '/07.png')  # 256 x 256 instead of 768 x 576
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    exec(compile(code, 'README quick start', 'exec'), {})
    fused = cv2.imread(str(tmp_path / 'fused_01.png'), cv2.IMREAD_UNCHANGED)
    ir = cv2.imread(osp.join(shared_data, 'fusion', 'TNO', 'ir', '07.png'))
    assert fused.shape == ir.shape[:2] and fused.dtype == np.uint8
    vi = cv2.imread(osp.join(shared_data, 'fusion', 'TNO', 'vi', '07.png'),
                    0) / 255.
    x = torch.from_numpy(np.stack([ir[..., 0] / 255., vi])).float()[None]
    model = MODELS.build(cfg.model)
    model.load_state_dict(
        torch.load(str(tmp_path / 'tim_ivif.pth'))['state_dict'])
    with torch.no_grad():
        ref = model.eval().fusion_net(x).clamp(0, 1)[0, 0]
    ref = torch.floor(ref * 255 + 0.5).to(torch.uint8).numpy()
    assert np.abs(fused.astype(int) - ref).max() <= 1
