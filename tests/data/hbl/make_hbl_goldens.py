"""Make the HBL converter goldens (``golden_<genotype>.pt`` here).

The official final network of github.com/zhudear/HBLALS_pytorch (Zhu et
al., IJCAI 2022), rebuilt functionally in
``tests/helpers/hbl_official_reference.py``, on seeded official-layout
weights, drawn key by key from ``torch.Generator().manual_seed(seed)``
(:func:`official_state_dict`), so the tests regenerate them instead of
storing 2 MB of weights; ``weights_checksum`` in the golden file detects a
change of the generator. Outputs are stored for both BN modes: ``'batch'``
(the official test, which never calls ``eval()``: BN with the statistics of
the batch = of the image at batch size 1) and ``'running'`` (standard eval
mode).

    PYTHONPATH=tests python tests/data/hbl/make_hbl_goldens.py
"""
import os.path as osp

import torch

from helpers.hbl_official_reference import (SEED, genotype_of,
                                            official_forward,
                                            official_state_dict,
                                            weights_checksum)

HERE = osp.dirname(osp.abspath(__file__))
INPUT_SHAPE = (1, 3, 18, 22)


def main():
    for name in ('lol', 'sihr'):
        geno = genotype_of(name)
        sd = official_state_dict(geno)
        x = torch.rand(INPUT_SHAPE, generator=torch.Generator().manual_seed(
            SEED + 1))
        with torch.no_grad():
            golden = dict(
                input=x,
                output_batch_stats=official_forward(sd, geno, x, 'batch'),
                output_running_stats=official_forward(sd, geno, x, 'running'),
                weights_checksum=weights_checksum(sd),
                num_tensors=len(sd))
        torch.save(golden, osp.join(HERE, f'golden_{name}.pt'))
        print(name, len(sd), golden['weights_checksum'],
              float(golden['output_batch_stats'].abs().mean()))


if __name__ == '__main__':
    main()
