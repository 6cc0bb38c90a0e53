"""Write the mim model index: one ``configs/<method>/metafile.yml`` per
method folder and ``mmfusenas/.mim/model-index.yml`` importing them.

The layout is MMDetection's (``Collections`` with the paper and the docs
page, ``Models`` with one entry per config and its ``Results`` where a
results file under ``docs/results/`` measured it). MMEngine reads the index
for ``mmfusenas::`` config names (``Config.fromfile('mmfusenas::tim/x.py')``
and ``_base_ = 'mmfusenas::tim/x.py'``), and ``mim search mmfusenas`` lists
the models from it.

Usage::

    python tools/misc/make_metafiles.py           # (re)write the files
    python tools/misc/make_metafiles.py --check   # exit 1 if out of date
"""
import argparse
import json
import os
import os.path as osp
import sys
from glob import glob
from typing import Dict, List

import yaml

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: method folder -> (collection name, paper, repository, docs page, task)
METHODS = {
    'tim': ('TIM', 'A Task-guided, Implicitly-searched and Meta-initialized '
            'Deep Model for Image Fusion (Liu et al., TPAMI 2024)',
            'https://github.com/LiuZhu-CV/TIMFusion', 'docs/methods/tim.md',
            'Image Fusion'),
    'ruas': ('RUAS', 'Learning with Nested Scene Modeling and Cooperative '
             'Architecture Search for Low-Light Vision (Liu et al., TPAMI '
             '2023)', 'https://github.com/vis-opt-group/RUAS',
             'docs/methods/ruas.md', 'Low-light Enhancement'),
    'dcnas': ('DCNAS', 'Dual-Level Cross-Modality Neural Architecture '
              'Search for Guided Image Super-Resolution (Zhong et al.)',
              'https://github.com/zhwzhong/DCNAS', 'docs/methods/dcnas.md',
              'Guided Depth Super-Resolution'),
    'hbl': ('HBL', 'Hierarchical Bilevel Learning with Architecture and Loss '
            'Search for Hadamard-Based Image Restoration',
            'https://github.com/zhudear/HBLALS_pytorch',
            'docs/methods/hbl.md', 'Image Restoration'),
    'hyper_guidance': (
        'HyperGuidance', 'Learning Adaptive Hyper-guidance via Proxy-based '
        'Bilevel Optimization for Image Enhancement',
        'https://github.com/moriyaya/Proxy-based-Bilevel-Hyper-Trainging',
        'docs/methods/hyper_guidance.md', 'Image Restoration'),
    'compose': ('Compose', 'Chains of pre-modules (enhancement, registration, '
                'fusion) trained and searched with a downstream task', None,
                'docs/methods/compose.md', 'Image Fusion'),
    'baselines': ('FusionBaselines', 'Published infrared-visible fusion '
                  'networks with their official weights (SeAFusion, TarDAL, '
                  'IFCNN) and hand-crafted rules', None,
                  'docs/methods/fusion_baselines.md', 'Image Fusion'),
}

#: config stem -> method name in docs/results/fusion_real.json
FUSION_REAL_METHODS = {
    'classical_mean_ivif': 'mean',
    'classical_max_ivif': 'max',
    'classical_laplacian_ivif': 'laplacian',
    'seafusion_ivif': 'SeAFusion',
    'tardal_ivif': 'TarDAL++',
    'tardal_ivif_bntrain': 'TarDAL',
    'ifcnn_max_ivif': 'IFCNN-MAX',
}
METRICS = ('EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM', 'CC',
           'PSNR')


def fusion_real_results(stem: str) -> List[dict]:
    """``Results`` of a baseline config from ``docs/results/
    fusion_real.json`` (IR-VIS test sets only), [] when not measured."""
    path = osp.join(ROOT, 'docs', 'results', 'fusion_real.json')
    name = FUSION_REAL_METHODS.get(stem)
    if name is None or not osp.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        result = json.load(f)['result']
    out = []
    for dataset in ('TNO', 'RoadScene'):
        row = result.get(dataset, {}).get(name)
        if row:
            out.append(dict(
                Task='Image Fusion', Dataset=dataset,
                Metrics={m: round(float(row[m]), 4) for m in METRICS
                         if m in row}))
    return out


def metafile(method: str) -> dict:
    """The metafile of one method folder."""
    name, paper, repo, readme, task = METHODS[method]
    collection = dict(Name=name, Paper=dict(Title=paper), README=readme)
    if repo:
        collection['Code'] = dict(URL=repo)
    models = []
    for path in sorted(glob(osp.join(ROOT, 'configs', method, '*.py'))):
        stem = osp.splitext(osp.basename(path))[0]
        model = {
            'Name': stem,
            'In Collection': name,
            'Config': f'configs/{method}/{stem}.py',
            'Metadata': dict(Task=task),
        }
        results = fusion_real_results(stem)
        if results:
            model['Results'] = results
        models.append(model)
    return dict(Collections=[collection], Models=models)


def expected_files() -> Dict[str, str]:
    """``{path relative to the repository: text}`` of every index file."""
    files = {}
    header = ('# written by tools/misc/make_metafiles.py; '
              'do not edit by hand\n')
    for method in METHODS:
        if not osp.isdir(osp.join(ROOT, 'configs', method)):
            raise FileNotFoundError(
                f'make_metafiles: configs/{method}/ listed in METHODS does '
                'not exist')
        files[f'configs/{method}/metafile.yml'] = header + yaml.safe_dump(
            metafile(method), sort_keys=False, allow_unicode=True)
    files['mmfusenas/.mim/model-index.yml'] = header + yaml.safe_dump(
        dict(Import=[f'configs/{m}/metafile.yml' for m in METHODS]),
        sort_keys=False)
    return files


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write the mim model index (configs/*/metafile.yml and '
        'mmfusenas/.mim/model-index.yml)')
    parser.add_argument('--check', action='store_true',
                        help='write nothing; exit 1 naming the files that '
                        'differ from a regeneration')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    stale = []
    for rel, text in expected_files().items():
        path = osp.join(ROOT, rel)
        current = None
        if osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                current = f.read()
        if current == text:
            continue
        stale.append(rel)
        if not args.check:
            tmp = path + '.tmp'
            with open(tmp, 'w', encoding='utf-8') as f:
                f.write(text)
            os.replace(tmp, path)
    if args.check and stale:
        print('out of date: ' + ', '.join(stale), file=sys.stderr)
        return 1
    print(f'{len(stale)} file(s) {"stale" if args.check else "written"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
