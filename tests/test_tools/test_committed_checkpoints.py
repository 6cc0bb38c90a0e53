"""The toolbox-trained weights committed under ``checkpoints/`` (listed in
the ``checkpoints`` key of the records of :data:`RECORDS`): each file
is weights only, matches its recorded sha256, loads strictly into the
config the record names and fuses a real pair through ``tools/fuse.py``'s
API."""
import glob
import hashlib
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.apis import inference_fusion, init_model, result_image
from mmfusenas.apis import test_pipeline_cfg as pipeline_cfg
from mmfusenas.datasets import PairedImageDataset
from helpers import REPO_ROOT

RECORDS = [osp.join(REPO_ROOT, 'docs', 'results', name) for name in (
    'fusion_real_trained.json', 'fusion_msrs_c8_ivif_zoo.json')]

pytestmark = pytest.mark.usefixtures('one_thread')


def _entries():
    entries = []
    for record in RECORDS:
        if osp.isfile(record):
            with open(record, encoding='utf-8') as f:
                entries += json.load(f).get('checkpoints', {}).items()
    return sorted(entries)


def test_the_records_list_committed_weights():
    entries = _entries()
    assert len(entries) == 3, f'{RECORDS} list {len(entries)} checkpoints'
    assert {osp.basename(e['checkpoint']) for _, e in entries} == {
        osp.basename(p) for p in glob.glob(
            osp.join(REPO_ROOT, 'checkpoints', '*.pth'))}
    total = sum(osp.getsize(osp.join(REPO_ROOT, e['checkpoint']))
                for _, e in entries)
    assert total <= 10 * 2**20


@pytest.mark.parametrize('name,entry', _entries())
def test_weights_load_and_fuse(name, entry, tmp_path):
    path = osp.join(REPO_ROOT, entry['checkpoint'])
    with open(path, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == entry['sha256']
    saved = torch.load(path, map_location='cpu', weights_only=True)
    assert set(saved) == {'state_dict'}
    model = init_model(osp.join(REPO_ROOT, entry['config']), path)
    state = model.state_dict()
    for key, value in saved['state_dict'].items():
        assert torch.equal(state[key], value), key
    # a small pair through the inference path: a finite 8-bit image
    rng = np.random.default_rng(0)
    for mod, shape in (('ir', (48, 64)), ('vi', (48, 64, 3))):
        (tmp_path / mod).mkdir()
        cv2.imwrite(str(tmp_path / mod / 'a.png'),
                    rng.integers(0, 256, shape, dtype=np.uint8))
    data = PairedImageDataset(
        data_root='', data_prefix={m: str(tmp_path / m) for m in ('ir',
                                                                  'vi')},
        pipeline=pipeline_cfg(model.cfg), test_mode=True,
        serialize_data=False)
    img = result_image(inference_fusion(model, data.get_data_info(0)))
    assert img.dtype == np.uint8 and img.shape[:2] == (48, 64)
    assert img.std() > 0


def test_the_weak_seafusion_weights_carry_their_measured_quality():
    """``docs/model_zoo.md`` lists ``seafusion_roadscene221.pth`` with the
    TNO figures of its record (SSIM, VIF, the mean rank of its metrics among
    the table's rows) and says it is not for use (issue 79 item 4)."""
    with open(RECORDS[0], encoding='utf-8') as f:
        tno = json.load(f)['result']['TNO']
    row = tno['SeAFusion/content']
    rank = np.mean(list(row['rank'].values()))
    with open(osp.join(REPO_ROOT, 'docs', 'model_zoo.md'),
              encoding='utf-8') as f:
        line = next(x for x in f
                    if x.startswith('| `checkpoints/seafusion_roadscene221'))
    assert f"SSIM {row['SSIM']:.3f}, VIF {row['VIF']:.3f}" in line
    assert f'mean rank {rank:.1f} of {len(tno)}' in line
    assert 'not for use' in line
