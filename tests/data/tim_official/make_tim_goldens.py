"""Make the TIM official-protocol goldens (``<name>.png``, ``goldens.json``).

Each golden is the image the official TIM test script of a protocol writes
(``tests/helpers/tim_official_reference.py``: ``run_official_script``)
with the seeded official-layout weights of ``seeded_official(name, seed=0)``
on a crop of a ``../shared/data/fusion`` pair. The images are stored
losslessly as PNG (OpenCV channel order, as the scripts write them) and
compared with :func:`helpers.numerics.assert_images_close`: within
±1 grey level except 0.1 % of the values, mean |diff| <= 0.02, since the
float pipeline before the rounding differs in the last bits between CPUs.

    PYTHONPATH=tests python tests/data/tim_official/make_tim_goldens.py \
        [--data ../shared/data]
"""
import argparse
import json
import os
import os.path as osp
import tempfile

import cv2
import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(osp.dirname(HERE)))
# (sources in config order, crop rows / cols of the source images)
SPECS = dict(
    ivif=(('TNO/ir/01.png', 'TNO/vi/01.png'), (120, 182, 220, 286)),
    light=(('TNO/ir/01.png', 'TNO/vi/01.png'), (120, 182, 220, 286)),
    ct=(('MRI_CT/MRI/11.png', 'MRI_CT/CT/11.png'), (96, 160, 96, 160)),
    pet=(('MRI_PET/MRI/11.png', 'MRI_PET/PET/11.png'), (96, 160, 96, 160)),
    spect=(('MRI_SPECT/MRI/11.png', 'MRI_SPECT/SPECT/11.png'),
           (96, 160, 96, 160)))
# the IVIF protocol pads to a multiple of 4 (crop of 62 x 66: 2 x 2)
PADS = dict(ivif=(2, 2))


def crop_sources(data_root, sources, box, out_dir):
    """Write the crops of ``sources`` to ``out_dir/src{i}.png``."""
    paths = []
    for i, rel in enumerate(sources):
        src = osp.join(data_root, 'fusion', rel)
        img = cv2.imread(src)
        if img is None:
            raise FileNotFoundError(f'cannot read {src}')
        paths.append(osp.join(out_dir, f'src{i}.png'))
        cv2.imwrite(paths[-1], img[box[0]:box[1], box[2]:box[3]])
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data',
                        default=osp.join(osp.dirname(ROOT), 'shared',
                                         'data'),
                        help='the shared data folder (holds fusion/)')
    parser.add_argument('--out', default=HERE, help='output folder')
    args = parser.parse_args(argv)
    from helpers import tim_official_reference as R
    torch.set_num_threads(1)
    meta = dict(
        about='Images written by the official TIM test scripts '
        '(tests/helpers/tim_official_reference.py run_official_script, '
        'weights seeded_official(name, seed=0)) on crops (rows, cols) of '
        '../shared/data/fusion pairs; made by '
        'tests/data/tim_official/make_tim_goldens.py.',
        outputs={})
    with tempfile.TemporaryDirectory() as tmp:
        for name, (sources, box) in SPECS.items():
            paths = crop_sources(args.data, sources, box, tmp)
            m1, m2 = R.seeded_official(name)
            img = R.run_official_script(name, m1, m2, paths,
                                        pad=PADS.get(name, (0, 0)))
            cv2.imwrite(osp.join(args.out, f'{name}.png'), img)
            meta['outputs'][name] = dict(
                sources=list(sources), crop=list(box), image=f'{name}.png',
                shape=list(img.shape))
    tmp_json = osp.join(args.out, 'goldens.json.tmp')
    with open(tmp_json, 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    os.replace(tmp_json, osp.join(args.out, 'goldens.json'))
    return meta


if __name__ == '__main__':
    main()
