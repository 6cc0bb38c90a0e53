"""Make the DCNAS ``StaticModel`` goldens (``static_goldens.pt``).

The official weights are not published, so the goldens come from a
re-implementation of the official ``StaticModel`` written after the
authors' code (github.com/zhwzhong/DCNAS, in its history at commit
1728e03; Zhong et al., "Dual-Level Cross-Modality Neural Architecture Search
for Guided Image Super-Resolution", TPAMI 2025) with the
official module tree, hence the official state-dict key names
(``FeatureInitialization.depth_head.0.layers.weight``, ...): seeded weights,
saved inputs and outputs. ``tests/test_tools/test_dcnas_converter.py``
converts these state dicts with ``tools/model_converters/
dcnas_official_to_mmfusenas.py`` and checks that ``DCNASNet`` reproduces the
outputs.

The re-implementation is ``tests/helpers/dcnas_official_reference.py``.
Run from the repository root:
``PYTHONPATH=tests python tests/data/dcnas/make_goldens.py``.
"""
import os.path as osp

import torch

from helpers.dcnas_official_reference import EXAMPLE, MIXED, StaticModel


def main():
    out = {}
    for name, arch, seed in (('example', EXAMPLE, 0), ('mixed', MIXED, 1)):
        torch.manual_seed(seed)
        net = StaticModel(arch, 4)
        with torch.no_grad():
            for p in net.parameters():  # non-trivial PReLU slopes too
                p.add_(0.05 * torch.randn_like(p))
        lr_up = torch.rand(1, 1, 32, 32)
        rgb = torch.randn(1, 3, 32, 32)
        with torch.no_grad():
            res = net(lr_up, rgb)
        out[name] = dict(arch=arch, num_features=4,
                         state_dict=net.state_dict(), lr_up=lr_up, rgb=rgb,
                         out=res)
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'static_goldens.pt')
    torch.save(out, path)
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
