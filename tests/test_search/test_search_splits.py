"""Split hygiene of the search configs: α never sees the evaluation data.

Every shipped search config is paired with the config that evaluates what
it derives (its ``retrain_*`` sibling). The files its α loader reads must
differ from the files its weights loader and the evaluation read; the toy
generators write the two search halves of the training split, and they
are disjoint from each other and from ``val``.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmfusenas.datasets.search_splits import SEARCH_SPLITS, search_halves

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# search config -> the configs that evaluate its derived architecture
EVALUATED_BY = {
    'tim/search_fusion_ivif.py': [
        'tim/fusion_ivif_tno.py', 'tim/fusion_ivif_roadscene.py',
        'tim/fusion_ivif_m3fd.py'
    ],
    'tim/search_fusion_ivif_toy.py': ['tim/retrain_fusion_ivif_toy.py'],
    # real pairs: the RoadScene221 halves; the retraining scores on
    # RoadScene-50 (the search-vs-random control on real data)
    'tim/search_fusion_ivif_roadscene221_cpu.py':
    ['tim/retrain_fusion_ivif_roadscene221_cpu.py'],
    'tim/search_fusion_ivif_roadscene221_separation_cpu.py':
    ['tim/retrain_fusion_ivif_roadscene221_content_ssim_cpu.py'],
    # the headlines hold a searched neck: they evaluate a search's genotype
    'tim/search_retinanet_ivif.py':
    ['tim/retrain_retinanet_ivif.py', 'tim/retinanet_ivif.py'],
    'tim/search_retinanet_ivif_toy.py':
    ['tim/retrain_retinanet_ivif_toy.py', 'tim/retinanet_ivif_toy.py'],
    'tim/search_retinanet_ivif_headline_toy.py':
    ['tim/retrain_retinanet_ivif_toy.py', 'tim/retinanet_ivif_toy.py'],
    # its genotype is the neck of retinanet_ivif.py (M3FD); it searched on
    # the toy data, whose val split the toy configs evaluate on
    'tim/search_retinanet_ivif_real_space_toy.py': [
        'tim/retinanet_ivif.py', 'tim/retrain_retinanet_ivif_toy.py',
        'tim/retinanet_ivif_toy.py'
    ],
    'tim/search_deeplabv3plus_r18_msrs.py':
    ['tim/retrain_deeplabv3plus_r18_msrs.py'],
    'tim/search_deeplabv3plus_r18_msrs_toy.py':
    ['tim/retrain_deeplabv3plus_r18_msrs_toy.py'],
    'tim/search_fusion_ivif_wl_toy.py': ['tim/retrain_fusion_ivif_toy.py'],
    'tim/search_fusion_ivif_wl.py': [
        'tim/fusion_ivif_tno.py', 'tim/fusion_ivif_roadscene.py',
        'tim/fusion_ivif_m3fd.py'
    ],
    'ruas/search_ruas_lol.py': ['ruas/retrain_ruas_lol.py'],
    'ruas/search_ruas_toy.py': ['ruas/retrain_ruas_toy.py'],
    'ruas/search_ssd300_exdark.py': ['ruas/retrain_ssd300_exdark.py'],
    'ruas/search_ssd_exdark_toy.py': ['ruas/retrain_ssd_exdark_toy.py'],
    'ruas/search_deeplabv3plus_r18_acdc.py':
    ['ruas/retrain_deeplabv3plus_r18_acdc.py'],
    'ruas/search_deeplabv3plus_r18_acdc_toy.py':
    ['ruas/retrain_deeplabv3plus_r18_acdc_toy.py'],
    'tim/search_fusion_ivif_budget_toy.py': ['tim/retrain_fusion_ivif_toy.py'],
    # TIM stage 2 (N_T) searches -> the joint two-stage trainings
    'tim/search_enhance_ivif.py': [
        'tim/train_two_stage_ivif_tno.py',
        'tim/train_two_stage_ivif_roadscene.py',
        'tim/train_two_stage_ivif_m3fd.py'
    ],
    'tim/search_enhance_ivif_toy.py': ['tim/train_two_stage_ivif_toy.py'],
    'tim/search_enhance_mri_ct.py': ['tim/train_two_stage_mri_ct.py'],
    'tim/search_enhance_mri_pet.py': ['tim/train_two_stage_mri_pet.py'],
    'tim/search_enhance_mri_spect.py': ['tim/train_two_stage_mri_spect.py'],
    # MultiSpectral detection (TIM Table 4)
    'tim/search_retinanet_multispectral.py':
    ['tim/retrain_retinanet_multispectral.py'],
    'tim/search_retinanet_multispectral_toy.py':
    ['tim/retrain_retinanet_multispectral_toy.py'],
    'hbl/search_loss_hbl_toy.py': ['hbl/train_hbl_toy.py'],
    'hbl/search_arch_hbl_toy.py': ['hbl/train_hbl_toy.py'],
    'hbl/search_loss_hbl_lol.py': ['hbl/train_hbl_lol.py'],
    'hbl/search_arch_hbl_lol.py': ['hbl/train_hbl_lol.py'],
    'compose/search_chain_retinanet_night_toy.py':
    ['compose/retrain_chain_retinanet_night_toy.py'],
    'compose/search_chain_retinanet_llvip.py':
    ['compose/retrain_chain_retinanet_llvip.py'],
}

# one-shot (evolution) searches: the loader that scores candidates plays
# α's role; it must not read the test split of the retraining config
ONE_SHOT_EVALUATED_BY = {
    f'dcnas/search_{v}.py': [f'dcnas/retrain_{v}.py']
    for v in ('toy_x4', 'nyu_x4', 'nyu_x8', 'nyu_x16', 'tiny_nyu_x4',
              'tiny_nyu_x8', 'tiny_nyu_x16', 'rgbdd_x4')
}


def _loaders(obj):
    if obj is None:
        return []
    return list(obj) if isinstance(obj, (list, tuple)) else [obj]


def _datasets(loader):
    """The leaf dataset configs of a dataloader config (wrappers opened)."""
    ds = loader['dataset']
    stack, out = [ds], []
    while stack:
        d = stack.pop()
        if 'datasets' in d:
            stack.extend(d['datasets'])
        elif 'dataset' in d:
            stack.append(d['dataset'])
        else:
            out.append(d)
    return out


def files_read(ds):
    """What a dataset config reads: ``(folder, selection)``; the selection
    is the split file (``None``: every file of the folder)."""
    root = ds.get('data_root', '') or ''
    if ds.get('split'):  # ACDC-style split folders
        root = osp.join(root, str(ds['split']))
    sel = ds.get('ann_file') or ds.get('split_file') or None
    return osp.normpath(root), (osp.normpath(sel) if sel else None)


def overlaps(a, b):
    """Whether two ``files_read`` results may share files."""
    (root_a, sel_a), (root_b, sel_b) = a, b
    if not (root_a.startswith(root_b) or root_b.startswith(root_a)):
        return False
    if root_a != root_b:
        return sel_a is None or sel_b is None
    return sel_a is None or sel_b is None or sel_a == sel_b


def _eval_reads(cfg):
    out = []
    for key in ('val_dataloader', 'test_dataloader'):
        for loader in _loaders(cfg.get(key)):
            out += [files_read(d) for d in _datasets(loader)]
    return out


def test_every_search_config_is_listed():
    found = {
        osp.relpath(p, osp.join(REPO, 'configs'))
        for p in glob.glob(osp.join(REPO, 'configs', '*', 'search_*.py'))
    }
    listed = set(EVALUATED_BY) | set(ONE_SHOT_EVALUATED_BY)
    assert found <= listed, (
        f'add {sorted(found - listed)} to EVALUATED_BY (bilevel) or '
        'ONE_SHOT_EVALUATED_BY (evolution) with the configs that evaluate '
        'their genotypes')


@pytest.mark.parametrize('search', sorted(ONE_SHOT_EVALUATED_BY))
def test_one_shot_scoring_loader_reads_no_test_file(search):
    cfg = Config.fromfile(osp.join(REPO, 'configs', search))
    scoring = [
        files_read(d) for loader in _loaders(cfg.train_cfg.dataloader)
        for d in _datasets(loader)
    ]
    assert scoring
    tests = []
    for other in [search] + ONE_SHOT_EVALUATED_BY[search]:
        other_cfg = Config.fromfile(osp.join(REPO, 'configs', other))
        for loader in _loaders(other_cfg.get('test_dataloader')):
            tests += [files_read(d) for d in _datasets(loader)]
    assert tests, f'{search}: no test loader found'
    for a in scoring:
        for t in tests:
            assert not overlaps(a, t), (
                f'{search}: candidates are scored on {a}, which the test '
                f'also reads ({t})')


@pytest.mark.parametrize('search', sorted(EVALUATED_BY))
def test_alpha_loader_reads_no_evaluation_file(search):
    path = osp.join(REPO, 'configs', search)
    if not osp.isfile(path):
        pytest.skip(f'{search} is not shipped in this tree')
    cfg = Config.fromfile(path)
    arch = [
        files_read(d) for loader in _loaders(cfg.train_cfg.arch_dataloader)
        for d in _datasets(loader)
    ]
    weights = [
        files_read(d) for loader in _loaders(cfg.train_dataloader)
        for d in _datasets(loader)
    ]
    assert arch and weights
    evaluation = _eval_reads(cfg)
    for other in EVALUATED_BY[search]:
        evaluation += _eval_reads(
            Config.fromfile(osp.join(REPO, 'configs', other)))
    assert evaluation, f'{search}: no evaluation loader found'
    for a in arch:
        for e in evaluation:
            assert not overlaps(a, e), (
                f'{search}: the α loader reads {a}, which the evaluation '
                f'also reads ({e}): α would be tuned on the test data')
        for w in weights:
            assert not overlaps(a, w), (
                f'{search}: the α loader and the weights loader both read '
                f'{a} / {w}')


def test_overlap_rule_by_hand():
    toy = ('data/toy', 'splits/val.txt')
    assert overlaps(toy, ('data/toy', 'splits/val.txt'))
    assert overlaps(toy, ('data/toy', None))  # the whole folder
    assert not overlaps(toy, ('data/toy', 'splits/search_arch.txt'))
    assert not overlaps(('data/LOL/our485', None), ('data/LOL/eval15', None))
    assert overlaps(('data/LOL', None), ('data/LOL/eval15', None))


def test_search_halves():
    weights, arch = search_halves(['a', 'b', 'c', 'd', 'e'])
    assert (weights, arch) == (['a', 'c', 'e'], ['b', 'd'])
    assert search_halves(['a', 'b', 'c'])[1] == ['b']  # prefix-stable
    with pytest.raises(ValueError, match='at least 2'):
        search_halves(['a'])
    assert SEARCH_SPLITS == ('search_weights', 'search_arch')


def _lines(path):
    with open(path) as f:
        return f.read().split()


def test_toy_generators_write_disjoint_search_halves(tmp_path):
    from mmfusenas.testing.toy_data import (generate_toy_acdc,
                                            generate_toy_exdark)
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    from mmfusenas.testing.toy_data.lowlight import generate_toy_lowlight

    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, num=8, seed=0, size=64, val_fraction=0.25)
    train = _lines(osp.join(root, 'splits', 'train.txt'))
    val = _lines(osp.join(root, 'splits', 'val.txt'))
    w = _lines(osp.join(root, 'splits', 'search_weights.txt'))
    a = _lines(osp.join(root, 'splits', 'search_arch.txt'))
    assert sorted(w + a) == sorted(train) and not set(w) & set(a)
    assert not set(a) & set(val) and len(a) == 3 and len(w) == 3
    import json
    with open(osp.join(root, 'annotations',
                       'instances_search_arch.json')) as f:
        coco = json.load(f)
    assert sorted(im['file_name'][:-4] for im in coco['images']) == a
    ids = {im['id'] for im in coco['images']}
    assert coco['annotations'] and all(
        ann['image_id'] in ids for ann in coco['annotations'])

    # the MultiSpectral layout: the same halves, COCO files per split, the
    # val split named test
    ms = str(tmp_path / 'multispectral')
    generate_toy_dataset(
        ms, num=8, seed=0, size=64, val_fraction=0.25,
        layout='multispectral')
    ids = {}
    for split in ('train', 'test', 'search_weights', 'search_arch'):
        with open(osp.join(ms, 'annotations', f'{split}.json')) as f:
            ids[split] = {
                im['file_name'][:-4]
                for im in json.load(f)['images']
            }
    assert ids['search_weights'] == set(w) and ids['search_arch'] == set(a)
    assert ids['test'] == set(val)
    assert not ids['search_arch'] & ids['test']

    low = str(tmp_path / 'low')
    generate_toy_lowlight(low, num_train=5, num_val=2, size=64)
    assert _lines(osp.join(low, 'train', 'splits',
                           'search_arch.txt')) == ['00001', '00003']
    exd = str(tmp_path / 'exdark')
    generate_toy_exdark(exd, num_train=4, num_val=2, size=64)
    assert _lines(osp.join(exd, 'splits', 'search_weights.txt')) == [
        '00000.png', '00002.png'
    ]
    acdc = str(tmp_path / 'acdc')
    generate_toy_acdc(acdc, num_train=4, num_val=2, size=64)
    assert _lines(osp.join(acdc, 'splits', 'search_arch.txt')) == [
        'GOPR0000/00001', 'GOPR0000/00003'
    ]
