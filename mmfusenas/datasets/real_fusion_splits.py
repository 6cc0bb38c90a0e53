"""Leak-free train / search / test splits of the real fusion training sets:
training pairs with an image equal to a test image (decoded-pixel sha256)
or nearly equal (thumbnail correlation) are excluded. See
``docs/user_guides/datasets.md``."""
import hashlib
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine import fileio

from mmfusenas.utils.fileio import read_image
from .paired_image_dataset import IMG_SUFFIXES, list_files
from .search_splits import search_halves

#: side of the grey thumbnails compared by the near-duplicate measure
THUMB_SIZE = 32
#: a training pair is excluded when ``1 - r`` to a test image is at most this
NEAR_DUP_THRESHOLD = 0.06
SPLIT_FILES = ('train', 'search_weights', 'search_arch', 'test', 'excluded')


@dataclass(frozen=True)
class FusionSet:
    """A paired folder (``root``, relative to the fusion data root) with its
    modality -> sub-folder ``prefix``."""
    name: str
    root: str
    prefix: Dict[str, str] = field(hash=False)


_IVIF = {'ir': 'ir', 'vi': 'vi'}

#: source -> (training set, test sets); the first test set is ``test.txt``
REAL_FUSION_SOURCES: Dict[str, Tuple[FusionSet, Tuple[FusionSet, ...]]] = {
    'roadscene221': (FusionSet('RoadScene221', 'RoadScene221', _IVIF),
                     (FusionSet('RoadScene', 'RoadScene', _IVIF),
                      FusionSet('TNO', 'TNO', _IVIF))),
    'harvard_ct': (FusionSet('Harvard/CT-MRI', 'Harvard/CT-MRI',
                             {'mri': 'MRI', 'ct': 'CT'}),
                   (FusionSet('MRI_CT', 'MRI_CT', {'mri': 'MRI', 'ct': 'CT'}),
                    )),
    'harvard_pet': (FusionSet('Harvard/PET-MRI', 'Harvard/PET-MRI',
                              {'mri': 'MRI', 'pet': 'PET'}),
                    (FusionSet('MRI_PET', 'MRI_PET',
                               {'mri': 'MRI', 'pet': 'PET'}), )),
    'harvard_spect': (FusionSet('Harvard/SPECT-MRI', 'Harvard/SPECT-MRI',
                                {'mri': 'MRI', 'spect': 'SPECT'}),
                      (FusionSet('MRI_SPECT', 'MRI_SPECT',
                                 {'mri': 'MRI', 'spect': 'SPECT'}), )),
}


@dataclass
class IndexedSet:
    """Sorted stems, and per modality the sha256 digests and the
    ``(N, THUMB_SIZE**2)`` normalised thumbnails of one set."""
    name: str
    stems: List[str]
    hashes: Dict[str, List[str]]
    thumbs: Dict[str, np.ndarray]


def canonical_pixels(img: np.ndarray) -> np.ndarray:
    """The decoded pixels, grey stored as colour reduced to ``(H, W)``."""
    if img.ndim == 3 and img.shape[2] == 1:
        return img[..., 0]
    if img.ndim == 3 and img.shape[2] == 3 and (
            img[..., 0] == img[..., 1]).all() and (img[..., 0]
                                                     == img[..., 2]).all():
        return img[..., 0]
    return img


def pixel_sha256(img: np.ndarray) -> str:
    """sha256 of the decoded pixels (:func:`canonical_pixels`): shape,
    dtype and C-order bytes."""
    img = canonical_pixels(img)
    digest = hashlib.sha256(f'{img.shape}|{img.dtype}|'.encode())
    digest.update(np.ascontiguousarray(img).tobytes())
    return digest.hexdigest()


def to_gray(img: np.ndarray) -> np.ndarray:
    """Grey version of a decoded image (OpenCV BGR(A) -> grey), float64."""
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else \
            cv2.COLOR_BGR2GRAY
        img = cv2.cvtColor(img, code)
    return img.astype(np.float64)


def thumbnail(img: np.ndarray, size: int = THUMB_SIZE) -> np.ndarray:
    """Zero-mean, unit-variance ``size x size`` grey thumbnail, flattened
    (zero for a constant image)."""
    small = cv2.resize(to_gray(img), (size, size),
                       interpolation=cv2.INTER_AREA).ravel()
    small = small - small.mean()
    std = small.std()
    return small / std if std > 0 else small


def list_stems(folder: str,
               backend_args: Optional[dict] = None) -> Dict[str, str]:
    """Stem -> file of the images directly inside ``folder``.

    Raises:
        FileNotFoundError: ``folder`` is missing or holds no image.
        ValueError: two images share a stem.
    """
    if not fileio.isdir(folder, backend_args=backend_args):
        raise FileNotFoundError(f'fusion split: folder {folder} not found')
    out: Dict[str, str] = {}
    for path in list_files(folder, IMG_SUFFIXES, backend_args):
        name = osp.basename(path)
        stem = osp.splitext(name)[0]
        if stem in out:
            raise ValueError(f'fusion split: {folder} holds two images with '
                             f'stem {stem!r}: {osp.basename(out[stem])}, '
                             f'{name}')
        out[stem] = path
    if not out:
        raise FileNotFoundError(f'fusion split: {folder} holds no image '
                                f'({", ".join(IMG_SUFFIXES)})')
    return out


def index_set(fset: FusionSet,
              data_root: str,
              backend_args: Optional[dict] = None) -> IndexedSet:
    """Hash and thumbnail every image of ``fset`` under ``data_root``;
    ValueError naming the folder when a stem lacks a modality."""
    files = {
        mod: list_stems(
            fileio.join_path(
                data_root, fset.root, sub, backend_args=backend_args),
            backend_args) for mod, sub in fset.prefix.items()
    }
    stems = sorted(set().union(*files.values()))
    for mod, found in files.items():
        missing = [s for s in stems if s not in found]
        if missing:
            folder = fileio.join_path(
                data_root, fset.root, fset.prefix[mod],
                backend_args=backend_args)
            raise ValueError(f'fusion split: {folder} has no image for '
                             f'stem(s) {missing[:20]} of set {fset.name}')
    hashes, thumbs = {}, {}
    for mod, found in files.items():
        images = [
            read_image(found[s], 'unchanged', backend_args) for s in stems
        ]
        hashes[mod] = [pixel_sha256(img) for img in images]
        thumbs[mod] = np.stack([thumbnail(img) for img in images])
    return IndexedSet(fset.name, stems, hashes, thumbs)


@dataclass(frozen=True)
class Match:
    """The test image (``'<set>/<stem>'``) nearest to a training stem, the
    modality, the distance ``1 - r`` and whether the pixels are equal."""
    stem: str
    test: str
    modality: str
    distance: float
    exact: bool


def nearest_test_images(train: IndexedSet,
                        tests: Sequence[IndexedSet]) -> List[Match]:
    """For each training pair, its nearest test image over the shared
    modalities (exact duplicates at distance 0)."""
    n = len(train.stems)
    best_d = np.full(n, np.inf)
    best: List[Optional[Tuple[str, str, bool]]] = [None] * n
    for test in tests:
        shared = [m for m in train.thumbs if m in test.thumbs]
        if not shared:
            raise ValueError(f'fusion split: test set {test.name} shares no '
                             f'modality with {train.name} '
                             f'({list(test.thumbs)} vs {list(train.thumbs)})')
        for mod in shared:
            corr = train.thumbs[mod] @ test.thumbs[mod].T / THUMB_SIZE**2
            dist = 1.0 - corr
            lookup = {h: j for j, h in enumerate(test.hashes[mod])}
            for i, h in enumerate(train.hashes[mod]):
                if h in lookup:
                    dist[i, :] = np.inf
                    dist[i, lookup[h]] = 0.0
            j = dist.argmin(axis=1)
            d = dist[np.arange(n), j]
            for i in np.flatnonzero(d < best_d):
                best_d[i] = d[i]
                exact = train.hashes[mod][i] in lookup
                best[i] = (f'{test.name}/{test.stems[j[i]]}', mod, exact)
    return [
        Match(stem, b[0], b[1], float(max(dist, 0.0)), b[2])
        for stem, b, dist in zip(train.stems, best, best_d)
    ]


def make_fusion_splits(source: str,
                       data_root: str,
                       threshold: float = NEAR_DUP_THRESHOLD,
                       backend_args: Optional[dict] = None) -> dict:
    """The leak-free split of one source of :data:`REAL_FUSION_SOURCES`.

    Args:
        source (str): e.g. ``'roadscene221'``, ``'harvard_ct'``.
        data_root (str): the fusion data root.
        threshold (float): pairs at this distance ``1 - r`` or closer to a
            test image are excluded.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.

    Returns:
        dict: ``train`` / ``search_weights`` / ``search_arch`` / ``test``
        (stem lists), ``excluded`` and ``matches`` (:class:`Match` lists),
        ``test_set`` (name).
    """
    if source not in REAL_FUSION_SOURCES:
        raise KeyError(f'unknown fusion split source {source!r}; choose one '
                       f'of {sorted(REAL_FUSION_SOURCES)}')
    if not 0 <= threshold < 1:
        raise ValueError(f'threshold must be in [0, 1), got {threshold}')
    train_set, test_sets = REAL_FUSION_SOURCES[source]
    train = index_set(train_set, data_root, backend_args)
    tests = [index_set(t, data_root, backend_args) for t in test_sets]
    matches = nearest_test_images(train, tests)
    excluded = [m for m in matches if m.exact or m.distance <= threshold]
    dropped = {m.stem for m in excluded}
    kept = [s for s in train.stems if s not in dropped]
    weights, arch = search_halves(kept)
    return dict(
        train=kept,
        search_weights=weights,
        search_arch=arch,
        test=list(tests[0].stems),
        test_set=tests[0].name,
        excluded=excluded,
        matches=matches)


def split_file_texts(source: str, splits: dict, threshold: float) -> dict:
    """The text of each file of :data:`SPLIT_FILES` (``#`` header lines,
    then one stem per line; ``excluded`` adds the match and distance)."""
    train_set, test_sets = REAL_FUSION_SOURCES[source]
    head = (f'# {source}: made by tools/dataset_converters/'
            f'make_fusion_splits.py (threshold {threshold})\n')
    where = {
        'train': f'# stems of {train_set.root} used for training\n',
        'search_weights': f'# search weights half of train '
        f'({train_set.root})\n',
        'search_arch': f'# search architecture half of train '
        f'({train_set.root})\n',
        'test': f'# stems of the test set {test_sets[0].root}\n',
        'excluded': '# stems of ' + train_set.root + ' removed from '
        'training: stem, nearest test image, modality, distance 1-r, '
        'exact|near\n',
    }
    texts = {}
    for name in SPLIT_FILES[:4]:
        texts[name] = head + where[name] + ''.join(
            f'{s}\n' for s in splits[name])
    texts['excluded'] = head + where['excluded'] + ''.join(
        f'{m.stem} {m.test} {m.modality} {m.distance:.4f} '
        f'{"exact" if m.exact else "near"}\n' for m in splits['excluded'])
    return texts
