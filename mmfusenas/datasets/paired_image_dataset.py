"""A dataset of registered image pairs: one folder per modality, files
paired by stem."""
import io
import os.path as osp
from collections import Counter, OrderedDict
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from mmengine import fileio
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmfusenas.registry import DATASETS
from mmfusenas.utils.data_folders import toy_data_command

IMG_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')

#: layouts of :func:`detect_layout`: ``(modality, sub-folder)`` pairs
KNOWN_LAYOUTS: Tuple[Tuple[Tuple[str, str], ...], ...] = (
    (('ir', 'ir'), ('vi', 'vi')),
    (('ir', 'Infrared'), ('vi', 'Visible')),
    (('mri', 'MRI'), ('ct', 'CT')),
    (('mri', 'MRI'), ('pet', 'PET')),
    (('mri', 'MRI'), ('spect', 'SPECT')),
)

#: keys of ``results`` (pipeline / annotations) no modality may be named
RESERVED_KEYS = frozenset({
    'img', 'img_path', 'stem', 'modalities', 'sample_idx', 'color_modality',
    'img_shape', 'ori_shape', 'pad_shape', 'scale_factor', 'flip',
    'flip_direction', 'rot90_k', 'crop_bbox', 'seg_fields', 'inputs',
    'data_samples', 'keep_ratio', 'scale'
})

ANN_RESERVED_KEYS = frozenset({
    'instances', 'img_id', 'width', 'height', 'ann_path', 'gt_bboxes',
    'gt_bboxes_labels', 'gt_ignore_flags', 'num_dropped_boxes', 'gt_seg_map',
    'seg_map_path', 'reduce_zero_label', 'label_map', 'ignore_index',
    'num_classes', 'img_channels'
})

_MAX_LISTED = 20
DATA_HINT = ('See docs/user_guides/datasets.md for the folder layouts (real '
             'data goes under data/<name>/).')


def pipeline_scope():
    """The ``mmfusenas`` default scope, when none is set (a dataset built
    outside a Runner), so that pipeline names resolve."""
    if DefaultScope.get_current_instance() is None:
        return DefaultScope.overwrite_default_scope('mmfusenas')
    return nullcontext()


def data_hint(path: str) -> str:
    """:data:`DATA_HINT`, plus the toy-data command when ``path`` lies in a
    toy data set."""
    command = toy_data_command(path)
    if command is None:
        return DATA_HINT
    return f'{DATA_HINT} This is toy data; write it with `{command}`.'


def check_choice(owner: str, name: str, value, choices: Sequence) -> str:
    """``value`` when among ``choices``, else a ValueError naming both."""
    if value not in choices:
        raise ValueError(f'{owner}: {name} must be one of {tuple(choices)}, '
                         f'got {value!r}.')
    return value


def check_modality_names(owner: str, modalities: Sequence[str]) -> None:
    """Refuse modality names that are no identifiers or are reserved keys."""
    bad = [m for m in modalities if not str(m).isidentifier()
           or m in RESERVED_KEYS or m in ANN_RESERVED_KEYS]
    if bad:
        raise ValueError(
            f'{owner}: modality name(s) {bad} must be identifiers that do '
            f'not collide with annotation keys {sorted(ANN_RESERVED_KEYS)} '
            f'or pipeline keys {sorted(RESERVED_KEYS)}; rename them in '
            'data_prefix.')


class PairCheckError(ValueError):
    """Unreadable image headers or modalities of different sizes
    (``PairedImageDataset(check_sizes=True)``)."""


def listing(items: Sequence[str]) -> str:
    """Format ``items`` one per line, eliding beyond ``_MAX_LISTED``."""
    lines = [f'  {item}' for item in items[:_MAX_LISTED]]
    if len(items) > _MAX_LISTED:
        lines.append(f'  ... and {len(items) - _MAX_LISTED} more')
    return '\n'.join(lines)


def list_files(folder: str,
               suffixes: Sequence[str] = IMG_SUFFIXES,
               backend_args: Optional[dict] = None) -> List[str]:
    """Sorted paths of the files directly in ``folder`` whose suffix
    (case-insensitive) is in ``suffixes``; hidden files are left out."""
    return sorted(
        fileio.join_path(folder, name, backend_args=backend_args)
        for name in fileio.list_dir_or_file(
            folder, list_dir=False, backend_args=backend_args)
        if not name.startswith('.')
        and osp.splitext(name)[1].lower() in suffixes)


def _header_size(path: str,
                 backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """``(width, height)`` from an image header (PIL, no decoding); raises
    OSError when the file is no image."""
    from PIL import Image
    if backend_args is None and osp.isfile(path):
        source = path
    else:
        source = io.BytesIO(fileio.get(path, backend_args=backend_args))
    with Image.open(source) as img:
        return img.size


def image_size(path: str,
               owner: str,
               backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """``(width, height)`` from an image header; a ValueError naming
    ``owner`` and the file when it is no image."""
    try:
        return _header_size(path, backend_args)
    except OSError as err:
        raise ValueError(
            f'{owner}: cannot read the size of image {path!r} '
            f'({err.__class__.__name__}: {err}); it is needed to convert '
            'the annotations to pixels.') from err


def subfolders(root: str,
               owner: str,
               backend_args: Optional[dict] = None) -> List[str]:
    """Sorted sub-folders of ``root``; FileNotFoundError naming ``owner``
    when ``root`` is no folder."""
    if not fileio.isdir(root, backend_args=backend_args):
        raise FileNotFoundError(f'{owner}: data_root {root!r} is not a '
                                f'folder. {data_hint(root)}')
    return sorted(
        fileio.list_dir_or_file(
            root, list_file=False, backend_args=backend_args))


def detect_layout(data_root: str,
                  backend_args: Optional[dict] = None
                  ) -> 'OrderedDict[str, str]':
    """The one of :data:`KNOWN_LAYOUTS` under ``data_root``.

    Returns:
        OrderedDict[str, str]: modality -> sub-folder, in modality order.

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
        ValueError: none or several layouts are present.
    """
    root = data_root or '.'
    subdirs = subfolders(root, 'PairedImageDataset', backend_args)
    matches = [
        layout for layout in KNOWN_LAYOUTS
        if all(folder in subdirs for _, folder in layout)
    ]
    known = ', '.join('{' + ','.join(f for _, f in layout) + '}'
                      for layout in KNOWN_LAYOUTS)
    if len(matches) != 1:
        found = ', '.join(
            '{' + ','.join(f for _, f in layout) + '}'
            for layout in matches)
        problem = ('none of the known layouts' if not matches else
                   f'several known layouts ({found})')
        raise ValueError(
            f'PairedImageDataset: data_prefix was not given and '
            f'{problem} was found under data_root {root!r} (its '
            f'sub-folders: {subdirs}). Known layouts: {known}. Pass '
            "data_prefix explicitly, e.g. data_prefix=dict(ir='ir', "
            "vi='vi').")
    return OrderedDict(matches[0])


@DATASETS.register_module()
class PairedImageDataset(BaseDataset):
    """Registered images of two (or more) modalities, paired by file stem.

    One sub-folder per modality, files paired by stem. Entries (sorted by
    stem): ``dict(img_path={modality: path}, stem=..., modalities=(...))``.
    Building checks folders, unique stems, complete pairs and split-file
    stems. See ``docs/user_guides/datasets.md``.

    Args:
        data_root (str): root folder; ``data_prefix`` and ``ann_file`` are
            relative to it. Defaults to ''.
        data_prefix (dict, optional): modality -> sub-folder, in modality
            order, e.g. ``dict(ir='Infrared', vi='Visible')``. None:
            detected among :data:`KNOWN_LAYOUTS`.
        ann_file (str): optional split file, one stem per line (``#``
            comments). Defaults to '' (every stem).
        img_suffixes (Sequence[str]): image suffixes, case-insensitive.
        on_unpaired (str): ``'error'`` or ``'skip'`` (drop with one warning)
            for a stem missing in some modality. Defaults to 'error'.
        check_sizes (bool): compare the header sizes of every sample at
            build time (:class:`PairCheckError`). Defaults to False (checked
            when loaded).
        metainfo (dict, optional): ``modalities`` is set from
            ``data_prefix`` (given, it must agree).
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
        pipeline (Sequence): Defaults to ().
        **kwargs: other :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO: dict = dict(modalities=())

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 ann_file: str = '',
                 img_suffixes: Sequence[str] = IMG_SUFFIXES,
                 on_unpaired: str = 'error',
                 check_sizes: bool = False,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        data_prefix, metainfo = self._init_pairing(
            data_root, data_prefix, img_suffixes, on_unpaired, check_sizes,
            metainfo, backend_args)
        with pipeline_scope():
            super().__init__(
                ann_file=ann_file,
                metainfo=metainfo,
                data_root=data_root,
                data_prefix=data_prefix,
                pipeline=list(pipeline),
                **kwargs)

    def _init_pairing(self, data_root: str, data_prefix: Optional[dict],
                      img_suffixes: Sequence[str], on_unpaired: str,
                      check_sizes: bool, metainfo: Optional[dict],
                      backend_args: Optional[dict]) -> Tuple[dict, dict]:
        """Check and keep the pairing arguments (also used by
        :class:`~mmfusenas.datasets.PairedSegDataset`); returns
        ``data_prefix`` and ``metainfo`` with the ``modalities``."""
        self.backend_args = backend_args
        if on_unpaired not in ('error', 'skip'):
            raise ValueError(
                "PairedImageDataset: on_unpaired must be 'error' or 'skip', "
                f'got {on_unpaired!r}.')
        if isinstance(img_suffixes, str):
            img_suffixes = (img_suffixes, )
        bad = [s for s in img_suffixes
               if not isinstance(s, str) or not s.startswith('.')]
        if bad or not img_suffixes:
            raise ValueError(
                'PairedImageDataset: img_suffixes must be strings starting '
                f"with '.', e.g. '.png'; got {img_suffixes!r}.")
        self.img_suffixes = tuple(s.lower() for s in img_suffixes)
        self.on_unpaired = on_unpaired
        self.check_sizes = check_sizes

        if not data_prefix:
            data_prefix = detect_layout(data_root, backend_args)
        data_prefix = OrderedDict(data_prefix)
        check_modality_names(type(self).__name__, data_prefix)
        self.modalities: Tuple[str, ...] = tuple(data_prefix)
        given = (metainfo or {}).get('modalities')
        if given and tuple(given) != self.modalities:
            raise ValueError(
                f'PairedImageDataset: metainfo modalities {tuple(given)} '
                f'disagree with the data_prefix order {self.modalities}.')
        return dict(data_prefix), dict(metainfo or {},
                                       modalities=self.modalities)

    def _scan_folder(self, modality: str) -> Dict[str, str]:
        """Map stem -> file path for the images of one modality folder."""
        folder = self.data_prefix[modality]
        if not fileio.isdir(folder, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'PairedImageDataset: the folder of modality {modality!r} '
                f'({folder!r}) does not exist; expected a folder of images '
                f'with suffixes {self.img_suffixes}. {data_hint(folder)}')
        files: Dict[str, List[str]] = {}
        for path in list_files(folder, self.img_suffixes, self.backend_args):
            stem = osp.splitext(osp.basename(path))[0]
            files.setdefault(stem, []).append(path)
        if not files:
            raise ValueError(
                f'PairedImageDataset: the folder of modality {modality!r} '
                f'({folder!r}) holds no image; expected files with suffixes '
                f'{self.img_suffixes} (case-insensitive).')
        duplicates = sorted(
            f"stem {stem!r}: {', '.join(sorted(paths))}"
            for stem, paths in files.items() if len(paths) > 1)
        if duplicates:
            raise ValueError(
                f'PairedImageDataset: {len(duplicates)} stem(s) occur more '
                f'than once in the folder of modality {modality!r} '
                f'({folder!r}); expected one file per stem:\n'
                f'{listing(duplicates)}')
        return {stem: paths[0] for stem, paths in files.items()}

    def _read_split(self) -> List[str]:
        """Stems listed in ``self.ann_file`` (in file order)."""
        if not fileio.isfile(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'PairedImageDataset: split file {self.ann_file!r} not '
                'found; expected a text file with one stem per line.')
        try:
            text = fileio.get_text(self.ann_file,
                                   backend_args=self.backend_args)
        except UnicodeDecodeError as err:
            raise ValueError(
                f'PairedImageDataset: split file {self.ann_file!r} is not '
                f'UTF-8 text ({err}).') from None
        lines = [line.strip() for line in text.splitlines()]
        stems = [ln for ln in lines if ln and not ln.startswith('#')]
        repeated = [s for s, n in Counter(stems).items() if n > 1]
        if repeated:
            raise ValueError(
                f'PairedImageDataset: split file {self.ann_file!r} lists '
                f'{len(repeated)} stem(s) more than once; expected each '
                f'stem once:\n{listing([repr(s) for s in repeated])}')
        if not stems:
            raise ValueError(
                f'PairedImageDataset: split file {self.ann_file!r} lists '
                'no stem; expected one stem per line.')
        return stems

    def _check_pair_sizes(self, data_list: List[dict]) -> None:
        """Compare the header sizes within every sample."""
        bad_files, mismatches = [], []
        for info in data_list:
            sizes = {}
            for mod, path in info['img_path'].items():
                try:
                    sizes[mod] = _header_size(path, self.backend_args)
                except OSError as err:
                    bad_files.append(f'{path} ({err.__class__.__name__})')
            if len(sizes) == len(info['img_path']) and \
                    len(set(sizes.values())) > 1:
                desc = ', '.join(f'{mod}={h}x{w} ({info["img_path"][mod]})'
                                 for mod, (w, h) in sizes.items())
                mismatches.append(f'{info["stem"]!r}: {desc}')
        if bad_files:
            raise PairCheckError(
                f'PairedImageDataset: {len(bad_files)} file(s) could not be '
                'identified as images while checking sizes '
                '(check_sizes=True):\n' + listing(bad_files))
        if mismatches:
            raise PairCheckError(
                f'PairedImageDataset: {len(mismatches)} sample(s) have '
                'modalities of different sizes (HxW); expected '
                'registered pairs of identical size:\n' +
                listing(mismatches))

    def load_data_list(self) -> List[dict]:
        files = {mod: self._scan_folder(mod) for mod in self.modalities}

        if self.ann_file:
            stems = self._read_split()
            absent = [s for s in stems if not any(s in files[m]
                                                  for m in self.modalities)]
            if absent:
                raise ValueError(
                    f'PairedImageDataset: {len(absent)} stem(s) of split '
                    f'file {self.ann_file!r} have no file in any modality '
                    f'folder {dict(self.data_prefix)} (suffixes '
                    f'{self.img_suffixes}):\n'
                    f'{listing([repr(s) for s in absent])}')
        else:
            stems = set().union(*files.values())

        unpaired = []
        for stem in sorted(stems):
            missing = [m for m in self.modalities if stem not in files[m]]
            if missing:
                present = ', '.join(f'{m}={files[m][stem]}'
                                    for m in self.modalities
                                    if stem in files[m])
                where = ', '.join(f'{m} ({self.data_prefix[m]})'
                                  for m in missing)
                unpaired.append(f'{stem!r}: missing in {where}; present: '
                                f'{present}')
        if unpaired:
            if self.on_unpaired == 'error':
                raise ValueError(
                    f'PairedImageDataset: {len(unpaired)} stem(s) do not '
                    'have a file in every modality folder; expected one '
                    f'file per modality in {dict(self.data_prefix)}. Fix '
                    "the data, list only complete pairs in ann_file, or set "
                    "on_unpaired='skip' to drop them:\n" +
                    listing(unpaired))
            MMLogger.get_current_instance().warning(
                f'PairedImageDataset: on_unpaired=\'skip\' drops '
                f'{len(unpaired)} unpaired stem(s):\n' +
                '\n'.join(f'  {u}' for u in unpaired))

        data_list = [
            dict(
                img_path={m: files[m][stem]
                          for m in self.modalities},
                stem=stem,
                modalities=self.modalities) for stem in sorted(stems)
            if all(stem in files[m] for m in self.modalities)
        ]
        if not data_list:
            raise ValueError(
                'PairedImageDataset: no complete pair left in '
                f'{dict(self.data_prefix)} after dropping unpaired stems; '
                'expected at least one stem with a file in every modality.')
        if self.check_sizes:
            self._check_pair_sizes(data_list)
        return data_list
