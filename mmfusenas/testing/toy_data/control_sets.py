"""The toy data sets of the search-vs-random control's spaces
(``benchmarks/bench_search_vs_random.py``; the ``data`` of
:data:`mmfusenas.benchmark.search_spaces.SPACES`), as it and
``projects/reproductions/bench_neck_anchor_levels.py`` write them: each
generator takes the data folder, ``quick`` and an optional pair count."""
import os.path as osp

from .ivif import generate_toy_dataset
from .lowlight import generate_toy_lowlight
from .lowlight_tasks import generate_toy_exdark

#: the chain space's night toy pairs, with --quick too: part of its
#: retraining protocol with
#: :data:`mmfusenas.benchmark.search_spaces.CHAIN_RETRAIN_ITERS`
#: (docs/methods/compose.md)
CHAIN_TOY_PAIRS = 96


def toy_ivif(root: str, quick: bool, num: int = None) -> None:
    generate_toy_dataset(
        osp.join(root, 'toy'), num=num or (48 if quick else 96), seed=0,
        size=64, val_fraction=0.25)


def toy_lowlight(root: str, quick: bool, num: int = None) -> None:
    generate_toy_lowlight(
        osp.join(root, 'toy_lowlight'), num_train=16 if quick else 32,
        num_val=8 if quick else 16, seed=0, size=64)


def toy_exdark(root: str, quick: bool, num: int = None) -> None:
    generate_toy_exdark(
        osp.join(root, 'toy_exdark'), num_train=24 if quick else 48,
        num_val=8 if quick else 16, seed=0, size=64)


def toy_night(root: str, quick: bool, num: int = None) -> None:
    # 96 pairs with --quick too (72 train / 24 held out; before 48 with 12
    # held out): part of the chain's retraining protocol
    # (docs/methods/compose.md, "the two modes of the chain retraining")
    generate_toy_dataset(
        osp.join(root, 'toy_night'), num=num or CHAIN_TOY_PAIRS, seed=0,
        size=64, val_fraction=0.25, night_fraction=1.0, night_darkness=4.0)


#: the generators by the ``data`` key of a space
DATA = dict(
    ivif=toy_ivif, lowlight=toy_lowlight, exdark=toy_exdark, night=toy_night)
