"""Folded config duplicates build what the unfolded files built.

The base configs below once repeated each other: the mmseg segmentor of
``fusion_deeplabv3plus_r18.py`` / ``fusion_fcn_r18.py`` /
``scene_deeplabv3plus_r18.py`` (now ``seg_r18_d8.py``), TIM's official
stage-1 N_F of the fusion configs, PMI and the fusion + task models (now
``tim_fusion_net.py``) and the loaders and
metrics of ``m3fd_det.py`` / ``llvip_det.py`` / ``multispectral_det.py`` (now
``paired_det.py``), and the optimisers of TIM's task-module searches
(``tim_task_search_optim.py``, in ``search_retinanet_multispectral.py`` and
``search_deeplabv3plus_r18_msrs.py``). ``tests/data/config_folds_before.json``
holds each file's ``Config.fromfile`` dict as it was *before* the fold
(JSON: tuples read back as lists; the variables a fold added, ``NEW``,
left out); the configs that inherit them merge into the same dicts. A later deliberate change of one of these bases updates that file:
``python tests/test_tools/test_config_folds.py --regenerate`` (review the
diff). The invariants below say what the folds share.
"""
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDEN = osp.join(REPO, 'tests', 'data', 'config_folds_before.json')
MODELS = 'configs/_base_/models/'
DATASETS = 'configs/_base_/datasets/'
#: per config, the variables the folds added to its dict (nothing else)
NEW = {
    'configs/tim/search_retinanet_multispectral.py':
    ('tim_task_search_optim_wrapper', ),
    'configs/tim/search_deeplabv3plus_r18_msrs.py':
    ('tim_task_search_optim_wrapper', ),
    'configs/tim/fusion_ivif_tno.py': ('tim_fusion_net', ),
    'configs/tim/fusion_mri_ct.py': ('tim_fusion_net', ),
    'configs/tim/pmi_fusion.py': ('tim_fusion_net', ),
    'configs/_base_/models/tim_ivif.py': ('tim_fusion_net', ),
}
#: keys every config gained later through ``default_runtime.py``
RUNTIME_NEW = ('cpu_kernel_transform', )
#: keys of ``env_cfg`` that ``default_runtime.py`` dropped later
ENV_DROPPED = ('cpu_malloc', )
#: keys ``default_runtime.py`` dropped later (MMEngine's stock Runner),
#: and the default hook it gained then
RUNTIME_DROPPED = ('runner_type', 'load_strict')
HOOK_NEW = 'checked_load'


def _dict(path: str) -> dict:
    cfg = Config.fromfile(osp.join(REPO, path))
    return json.loads(json.dumps(cfg._cfg_dict.to_dict()))


with open(GOLDEN) as f:
    BEFORE = json.load(f)
for _cfg in BEFORE.values():
    for _key in ENV_DROPPED:
        _cfg.get('env_cfg', {}).pop(_key, None)
    for _key in RUNTIME_DROPPED:
        _cfg.pop(_key, None)


@pytest.mark.parametrize('path', sorted(BEFORE))
def test_folded_config_equals_the_unfolded_one(path):
    new = NEW.get(path, ())
    after = {k: v for k, v in _dict(path).items()
             if k not in new and k not in RUNTIME_NEW}
    after.get('default_hooks', {}).pop(HOOK_NEW, None)
    assert after == BEFORE[path]


def test_one_optimiser_pair_for_the_task_module_searches():
    shared = _dict('configs/_base_/schedules/tim_task_search_optim.py')[
        'tim_task_search_optim_wrapper']
    assert shared['weights']['optimizer'] == dict(
        type='AdamW', lr=1e-4, weight_decay=1e-4)
    assert shared['arch']['optimizer'] == dict(
        type='Adam', lr=3e-4, betas=[0.5, 0.999], weight_decay=1e-3)
    for name in ('search_retinanet_multispectral',
                 'search_deeplabv3plus_r18_msrs'):
        cfg = _dict(f'configs/tim/{name}.py')
        # the retrain config's optimiser is replaced, not merged into
        assert cfg['optim_wrapper'] == shared


def test_one_segmentor_behind_fusion_and_scene():
    dlv3 = _dict(MODELS + 'fusion_deeplabv3plus_r18.py')['model']
    fcn = _dict(MODELS + 'fusion_fcn_r18.py')['model']
    scene = _dict(MODELS + 'scene_deeplabv3plus_r18.py')['model']
    seg = _dict(MODELS + 'seg_r18_d8.py')['model']['segmentor']
    # FCN = DeepLabV3+ but for the decoder
    assert {k: v for k, v in fcn.items() if k != 'segmentor'} == \
        {k: v for k, v in dlv3.items() if k != 'segmentor'}
    for part in ('backbone', 'auxiliary_head', 'train_cfg', 'test_cfg'):
        assert fcn['segmentor'][part] == dlv3['segmentor'][part]
    assert fcn['segmentor']['decode_head'] == dict(
        type='FCNHead', in_channels=512, in_index=3, channels=128,
        num_convs=2, concat_input=True, dropout_ratio=0.1, num_classes=9,
        norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0))
    # fusion (9 MSRS classes) and scene (19 Cityscapes ids) share the
    # segmentor of seg_r18_d8.py but for the classes and the ASPP decoder
    assert dlv3['segmentor']['backbone'] == scene['segmentor']['backbone'] \
        == seg['backbone']
    for model, n in ((dlv3, 9), (fcn, 9), (scene, 19)):
        heads = model['segmentor']
        assert heads['decode_head']['num_classes'] == n
        assert heads['auxiliary_head'] == dict(
            seg['auxiliary_head'], num_classes=n)
    assert dlv3['segmentor']['decode_head'] == dict(
        seg['decode_head'], num_classes=9)
    aspp = scene['segmentor']['decode_head']
    assert aspp['type'] == 'mmfusenas.SearchableASPPHead'
    assert 'dilations' not in aspp  # the searched cell has none
    assert aspp['ops'] == ['1-C', '3-6-DC', '3-12-DC', '3-18-DC']
    assert {k: v for k, v in aspp.items()
            if k not in ('type', 'num_branches', 'ops', 'num_classes')} == {
        k: v for k, v in seg['decode_head'].items()
        if k not in ('type', 'dilations', 'num_classes')}


def test_one_stage1_fusion_net_for_every_fusion_task_and_task_model():
    net = _dict(MODELS + 'tim_fusion_net.py')['tim_fusion_net']
    assert net == dict(
        type='TIMFusionNet', channels=48, in_channels=2, cells=[
            dict(type='MultiScaleFusionCell',
                 ops=['Residualblocks_3_1', 'DilConv_3_2']),
            dict(type='SuccessiveCell',
                 ops=['Denseblocks_3_1', 'DilConv_3_2'])])
    for path in [f'{MODELS}{name}.py' for name in (
            'fusion_retinanet_r18', 'fusion_ssd_r18',
            'fusion_deeplabv3plus_r18', 'fusion_fcn_r18')] + [
                f'configs/tim/{name}.py' for name in (
                    'fusion_ivif_tno', 'fusion_ivif_roadscene',
                    'fusion_mri_ct', 'fusion_mri_pet', 'fusion_mri_spect',
                    'pmi_fusion', 'pmi_fusion_toy')]:
        cfg = _dict(path)
        assert cfg['model']['fusion_net'] == cfg['tim_fusion_net'] == net
    # one PMI initialisation loads into the official two-stage model too
    stage1 = _dict(MODELS + 'tim_ivif.py')['model']['fusion_net']['stage1']
    assert stage1 == dict(net, input_order=[0, 1])


@pytest.mark.parametrize('name, root, val_file, classwise', [
    ('m3fd_det', 'data/M3FD/', 'annotations/val.json', False),
    ('llvip_det', 'data/LLVIP/', 'annotations/test.json', False),
    ('multispectral_det', 'data/MultiSpectral/', 'annotations/test.json',
     True),
])
def test_paired_det_sets_share_loaders_and_metrics(name, root, val_file,
                                                   classwise):
    cfg = _dict(f'{DATASETS}{name}.py')
    base = _dict(DATASETS + 'paired_det.py')
    assert cfg['data_root'] == root
    assert cfg['test_dataloader'] == cfg['val_dataloader']
    for split, pipeline in (('train', 'train_pipeline'),
                            ('val', 'test_pipeline')):
        loader, skeleton = (cfg[f'{split}_dataloader'],
                            base[f'{split}_dataloader'])
        # the base's loader, plus only what names the data
        assert {k: v for k, v in loader.items() if k != 'dataset'} == \
            {k: v for k, v in skeleton.items() if k != 'dataset'}
        ds = loader['dataset']
        named = dict(data_root=root, metainfo=dict(classes=cfg['classes']),
                     pipeline=cfg[pipeline])
        assert ds == dict(skeleton['dataset'], ann_file=ds['ann_file'],
                          **named)
        # every resize at the set's own scale
        scales = [t['scale'] for t in ds['pipeline']
                  if t['type'] == 'PairedResize']
        assert scales == [list(cfg['img_scale'])]
    assert cfg['val_dataloader']['dataset']['ann_file'] == val_file
    coco, fusion = cfg['val_evaluator']
    assert coco.get('classwise', False) is classwise
    assert fusion == base['val_evaluator'][1]
    assert cfg['test_evaluator'] == cfg['val_evaluator']


def _regenerate() -> None:  # pragma: no cover - a maintenance command
    """Rewrite the golden from the current files (after a deliberate
    change of one of these bases)."""
    out = {path: {k: v for k, v in _dict(path).items()
                  if k not in NEW.get(path, ())} for path in sorted(BEFORE)}
    with open(GOLDEN, 'w') as f:
        f.write(json.dumps(out, sort_keys=True, separators=(',', ':')) +
                '\n')
    print(f'wrote {GOLDEN}')


if __name__ == '__main__' and '--regenerate' in sys.argv:
    _regenerate()
