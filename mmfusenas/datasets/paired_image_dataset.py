"""A dataset of spatially registered image pairs matched by file name.

:class:`PairedImageDataset` indexes the layouts of the multi-modality
imaging community, one folder per modality with the same file stem in
every folder (``{ir,vi}/``: TNO, RoadScene, M3FD, LLVIP; ``{Infrared,
Visible}/``: MSRS; ``{MRI,CT}/`` etc.: the Harvard medical atlas), checks
that every stem has exactly one file per modality and yields
``dict(img_path={modality: path}, stem=..., modalities=(...))`` entries,
read by :class:`~mmfusenas.datasets.transforms.LoadPairedImages`.
See ``docs/user_guides/datasets.md``.
"""
import io
import os.path as osp
from collections import OrderedDict
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from mmengine import fileio
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmfusenas.registry import DATASETS
from mmfusenas.utils.toy_data_commands import (  # noqa: F401
    TOY_DATA_COMMANDS, toy_data_command)

#: Suffixes recognised as images by default (matched case-insensitively).
IMG_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')

#: Layouts recognised by :func:`detect_layout`, each a sequence of
#: ``(modality name, sub-folder)`` in modality order.
KNOWN_LAYOUTS: Tuple[Tuple[Tuple[str, str], ...], ...] = (
    (('ir', 'ir'), ('vi', 'vi')),
    (('ir', 'Infrared'), ('vi', 'Visible')),
    (('mri', 'MRI'), ('ct', 'CT')),
    (('mri', 'MRI'), ('pet', 'PET')),
    (('mri', 'MRI'), ('spect', 'SPECT')),
)

#: Keys that the loading / packing transforms write into ``results``; a
#: modality may not be called like one of them.
RESERVED_KEYS = frozenset({
    'img', 'img_path', 'stem', 'modalities', 'sample_idx', 'color_modality',
    'img_shape', 'ori_shape', 'pad_shape', 'scale_factor', 'flip',
    'flip_direction', 'rot90_k', 'crop_bbox', 'seg_fields', 'inputs',
    'data_samples', 'keep_ratio', 'scale'
})

#: Keys the annotated datasets and transforms write into a data-info /
#: ``results``; a modality may not be called like one of them.
ANN_RESERVED_KEYS = frozenset({
    'instances', 'img_id', 'width', 'height', 'ann_path', 'gt_bboxes',
    'gt_bboxes_labels', 'gt_ignore_flags', 'num_dropped_boxes', 'gt_seg_map',
    'seg_map_path', 'reduce_zero_label', 'label_map', 'ignore_index',
    'num_classes', 'img_channels'
})

#: At most this many offending entries are listed in one error message.
_MAX_LISTED = 20

#: Appended to "data not found" errors: where data goes (:func:`data_hint`
#: adds the toy-data command for the folders of the toy generators).
DATA_HINT = ('See docs/user_guides/datasets.md for the folder layouts (real '
             'data goes under data/<name>/).')


def pipeline_scope():
    """A context in which pipeline names resolve in the ``mmfusenas``
    registries: MMEngine builds pipelines in the current default scope, and a
    dataset built outside a Runner has none."""
    if DefaultScope.get_current_instance() is None:
        return DefaultScope.overwrite_default_scope('mmfusenas')
    return nullcontext()


def data_hint(path: str) -> str:
    """:data:`DATA_HINT`, plus the command writing the toy data when
    ``path`` lies in a toy data set (:func:`toy_data_command`)."""
    command = toy_data_command(path)
    if command is None:
        return DATA_HINT
    return f'{DATA_HINT} This is toy data; write it with `{command}`.'


def check_modality_names(owner: str, modalities: Sequence[str]) -> None:
    """Refuse modality names that are no identifiers or collide with the
    pipeline / annotation keys (:data:`ANN_RESERVED_KEYS`)."""
    bad = [m for m in modalities if not str(m).isidentifier()
           or m in RESERVED_KEYS or m in ANN_RESERVED_KEYS]
    if bad:
        raise ValueError(
            f'{owner}: modality name(s) {bad} must be identifiers that do '
            f'not collide with annotation keys {sorted(ANN_RESERVED_KEYS)} '
            f'or pipeline keys {sorted(RESERVED_KEYS)}; rename them in '
            'data_prefix.')


class PairCheckError(ValueError):
    """Files of samples that cannot be paired as they are: unreadable
    image headers or modalities of different sizes (raised by
    ``PairedImageDataset(check_sizes=True)``), so tools can say how to skip
    those samples."""


def _listing(items: Sequence[str]) -> str:
    """Format ``items`` one per line, eliding beyond ``_MAX_LISTED``."""
    lines = [f'  {item}' for item in items[:_MAX_LISTED]]
    if len(items) > _MAX_LISTED:
        lines.append(f'  ... and {len(items) - _MAX_LISTED} more')
    return '\n'.join(lines)


def image_size(path: str,
               owner: str,
               backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """``(width, height)`` from an image header (PIL, no decoding).

    Args:
        path (str): Image file.
        owner (str): Class or tool name for the message.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments; None reads a local file's header only.

    Returns:
        tuple[int, int]: ``(width, height)``.

    Raises:
        ValueError: the file cannot be identified as an image.
    """
    from PIL import Image, UnidentifiedImageError
    try:
        if backend_args is None and osp.isfile(path):
            source = path
        else:
            source = io.BytesIO(fileio.get(path, backend_args=backend_args))
        with Image.open(source) as img:
            return img.size
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(
            f'{owner}: cannot read the size of image {path!r} '
            f'({err.__class__.__name__}: {err}); it is needed to convert '
            'the annotations to pixels.') from err


def detect_layout(data_root: str,
                  backend_args: Optional[dict] = None
                  ) -> 'OrderedDict[str, str]':
    """Find which known paired layout ``data_root`` holds.

    Args:
        data_root (str): Folder expected to contain one sub-folder per
            modality.
        backend_args (dict, optional): file backend arguments of
            :mod:`mmengine.fileio` (e.g. object storage). Defaults to None
            (the backend is inferred from the path).

    Returns:
        OrderedDict[str, str]: modality name -> sub-folder name, in modality
        order (e.g. ``{'ir': 'Infrared', 'vi': 'Visible'}``).

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
        ValueError: none, or more than one, of :data:`KNOWN_LAYOUTS` is
            present; the message lists the sub-folders found.
    """
    root = data_root or '.'
    if not fileio.isdir(root, backend_args=backend_args):
        raise FileNotFoundError(
            f'PairedImageDataset: data_root {root!r} is not a folder; '
            'expected a folder holding one sub-folder per modality. '
            f'{data_hint(root)}')
    subdirs = sorted(
        fileio.list_dir_or_file(
            root, list_file=False, backend_args=backend_args))
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

    Every modality lives in its own sub-folder of ``data_root``; files of one
    sample share their stem (the name without extension), while extensions
    may differ between modalities (``ir/a.jpg`` pairs with ``vi/a.png``).
    The samples are sorted by stem. Each entry of the data list is::

        dict(img_path={'ir': '.../ir/a.png', 'vi': '.../vi/a.png'},
             stem='a', modalities=('ir', 'vi'), sample_idx=0)

    Checks made when the dataset is built (``full_init``): each modality
    folder exists and holds at least one image; no stem appears twice in one
    folder (``a.png`` and ``a.jpg``); every stem has a file in every modality
    (see ``on_unpaired``); every stem of the split file exists; optionally
    (``check_sizes=True``) all files of a sample have the same width and
    height. Reading errors, channel counts, bit depth and (by default) sizes
    are checked when the sample is loaded by
    :class:`~mmfusenas.datasets.transforms.LoadPairedImages`.

    Only files directly inside the modality folders whose suffix is in
    ``img_suffixes`` (case-insensitive) are images; hidden files (name
    starting with ``.``, e.g. macOS ``._a.png``) and sub-folders are ignored.

    Args:
        data_root (str): Root folder of the dataset; ``data_prefix`` and
            ``ann_file`` are relative to it. Defaults to ''.
        data_prefix (dict, optional): Modality name -> sub-folder (relative
            to ``data_root``, or absolute), e.g. ``dict(ir='ir', vi='vi')``,
            ``dict(ir='Infrared', vi='Visible')``, ``dict(mri='MRI',
            pet='PET')``. The order of the dict is the modality order (first
            = A, second = B) used by the whole pipeline. Modality names must
            be Python identifiers and must not collide with pipeline keys
            (``img_path``, ``stem``, ...). If None or empty, the layout is
            detected under ``data_root`` among ``{ir,vi}``,
            ``{Infrared,Visible}`` (named ``ir``, ``vi``) and
            ``{MRI,CT|PET|SPECT}`` (named ``mri``, ``ct`` / ``pet`` /
            ``spect``); this happens in ``__init__`` even with
            ``lazy_init=True`` (a directory listing) and raises if none or
            several layouts are present. Defaults to None.
        ann_file (str): Optional split file (relative to ``data_root`` or
            absolute): plain text, one stem per line; surrounding spaces,
            blank lines and lines starting with ``#`` are ignored. Only the
            listed stems are used. A stem listed twice, or present in no
            modality folder, is an error; a stem present in some modalities
            only is handled by ``on_unpaired``. Defaults to '' (use every
            stem).
        img_suffixes (Sequence[str]): File suffixes regarded as images,
            compared case-insensitively. Defaults to
            ``('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')``.
        on_unpaired (str): What to do with a stem that has no file in some
            modality folder: ``'error'`` raises a ValueError listing them;
            ``'skip'`` drops those samples and logs one warning (through the
            current :class:`~mmengine.logging.MMLogger`) listing every
            dropped stem and its missing modalities. Defaults to 'error'.
        check_sizes (bool): If True, read the header of every file at build
            time (with PIL, no decoding) and raise a
            :class:`PairCheckError` (a ValueError) listing the samples
            whose modalities differ in width/height, or whose files
            cannot be identified as images. If False, the sizes are checked
            when a sample is loaded. Defaults to False.
        metainfo (dict, optional): Extra meta information; ``modalities``
            is always set to the modality order of ``data_prefix`` (given
            explicitly, it must agree). Defaults to None.
        pipeline (list[dict | Callable]): Processing pipeline. Defaults to
            [].
        test_mode (bool): Test mode (``None`` from the pipeline is an error
            instead of a re-fetch). Defaults to False.
        lazy_init (bool): Defer indexing the folders to ``full_init`` (or the
            first access). Defaults to False.
        serialize_data (bool): Serialise the data list into one numpy
            buffer to share it between dataloader workers. Defaults to True.
        indices (int | Sequence[int], optional): Use only these samples (or
            the first ``indices`` samples). Defaults to None.
        max_refetch (int): Re-fetch attempts when the pipeline returns
            None. Defaults to 1000.
        filter_cfg (dict, optional): Unused by this class; kept for the
            :class:`~mmengine.dataset.BaseDataset` interface. Defaults to
            None.
        backend_args (dict, optional): file backend arguments of
            :mod:`mmengine.fileio`, for folders on object storage (e.g.
            ``dict(backend='petrel')``): the folders are listed and the
            split file read through it (give the same to
            :class:`~mmfusenas.datasets.transforms.LoadPairedImages`).
            Defaults to None (the backend is inferred from the path: local
            disk for plain paths).
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
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 max_refetch: int = 1000,
                 filter_cfg: Optional[dict] = None,
                 backend_args: Optional[dict] = None) -> None:
        data_prefix, metainfo = self._init_pairing(
            data_root, data_prefix, img_suffixes, on_unpaired, check_sizes,
            metainfo, backend_args)
        with pipeline_scope():
            super().__init__(
                ann_file=ann_file,
                metainfo=metainfo,
                data_root=data_root,
                data_prefix=data_prefix,
                filter_cfg=filter_cfg,
                indices=indices,
                serialize_data=serialize_data,
                pipeline=list(pipeline),
                test_mode=test_mode,
                lazy_init=lazy_init,
                max_refetch=max_refetch)

    def _init_pairing(self, data_root: str, data_prefix: Optional[dict],
                      img_suffixes: Sequence[str], on_unpaired: str,
                      check_sizes: bool, metainfo: Optional[dict],
                      backend_args: Optional[dict]) -> Tuple[dict, dict]:
        """Check and keep the pairing arguments (shared with
        :class:`~mmfusenas.datasets.PairedSegDataset`); returns the
        ``data_prefix`` (detected when not given) and ``metainfo`` with the
        ``modalities`` to build the base class with."""
        self.backend_args = backend_args
        if on_unpaired not in ('error', 'skip'):
            raise ValueError(
                "PairedImageDataset: on_unpaired must be 'error' or 'skip', "
                f'got {on_unpaired!r}.')
        if isinstance(img_suffixes, str):
            img_suffixes = (img_suffixes, )
        suffixes = []
        for suffix in img_suffixes:
            if not isinstance(suffix, str) or not suffix.startswith('.'):
                raise ValueError(
                    'PairedImageDataset: every entry of img_suffixes must be '
                    "a string starting with '.', e.g. '.png'; got "
                    f'{suffix!r}.')
            suffixes.append(suffix.lower())
        if not suffixes:
            raise ValueError(
                'PairedImageDataset: img_suffixes must not be empty.')
        self.img_suffixes = tuple(suffixes)
        self.on_unpaired = on_unpaired
        self.check_sizes = check_sizes

        if not data_prefix:
            data_prefix = detect_layout(data_root, backend_args)
        data_prefix = OrderedDict(data_prefix)
        for name in data_prefix:
            if (not isinstance(name, str) or not name.isidentifier()
                    or name in RESERVED_KEYS):
                raise ValueError(
                    f'PairedImageDataset: modality name {name!r} in '
                    'data_prefix is invalid; expected a Python identifier '
                    'that is not one of the pipeline keys '
                    f'{sorted(RESERVED_KEYS)}.')
        self.modalities: Tuple[str, ...] = tuple(data_prefix)
        given = (metainfo or {}).get('modalities')
        if given and tuple(given) != self.modalities:
            raise ValueError(
                f'PairedImageDataset: metainfo modalities {tuple(given)} '
                f'disagree with the data_prefix order {self.modalities}.')
        return dict(data_prefix), dict(metainfo or {},
                                       modalities=self.modalities)

    # ------------------------------------------------------------------
    # indexing
    # ------------------------------------------------------------------
    def _scan_folder(self, modality: str) -> Dict[str, str]:
        """Map stem -> file path for the images of one modality folder."""
        folder = self.data_prefix[modality]
        if not fileio.isdir(folder, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'PairedImageDataset: the folder of modality {modality!r} '
                f'({folder!r}) does not exist; expected a folder of images '
                f'with suffixes {self.img_suffixes}. {data_hint(folder)}')
        files: Dict[str, List[str]] = {}
        for name in fileio.list_dir_or_file(
                folder, list_dir=False, backend_args=self.backend_args):
            if name.startswith('.'):
                continue
            stem, suffix = osp.splitext(name)
            if suffix.lower() not in self.img_suffixes:
                continue
            path = fileio.join_path(
                folder, name, backend_args=self.backend_args)
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
                f'{_listing(duplicates)}')
        return {stem: paths[0] for stem, paths in files.items()}

    def _read_split(self) -> List[str]:
        """Stems listed in ``self.ann_file`` (in file order)."""
        if not fileio.isfile(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'PairedImageDataset: split file {self.ann_file!r} not '
                'found; expected a text file with one stem per line.')
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        lines = [line.strip() for line in text.splitlines()]
        stems = [ln for ln in lines if ln and not ln.startswith('#')]
        seen, repeated = set(), []
        for stem in stems:
            if stem in seen and stem not in repeated:
                repeated.append(stem)
            seen.add(stem)
        if repeated:
            raise ValueError(
                f'PairedImageDataset: split file {self.ann_file!r} lists '
                f'{len(repeated)} stem(s) more than once; expected each '
                f'stem once:\n{_listing([repr(s) for s in repeated])}')
        if not stems:
            raise ValueError(
                f'PairedImageDataset: split file {self.ann_file!r} lists '
                'no stem; expected one stem per line.')
        return stems

    def _check_pair_sizes(self, data_list: List[dict]) -> None:
        """Compare header sizes (PIL, no decoding) within every sample."""
        from PIL import Image, UnidentifiedImageError

        def open_image(path: str) -> Image.Image:
            if self.backend_args is None and osp.isfile(path):
                return Image.open(path)  # local disk: the header only
            return Image.open(
                io.BytesIO(fileio.get(path, backend_args=self.backend_args)))

        bad_files, mismatches = [], []
        for info in data_list:
            sizes = {}
            for mod, path in info['img_path'].items():
                try:
                    with open_image(path) as img:
                        sizes[mod] = img.size  # (w, h)
                except (UnidentifiedImageError, OSError) as err:
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
                '(check_sizes=True):\n' + _listing(bad_files))
        if mismatches:
            raise PairCheckError(
                f'PairedImageDataset: {len(mismatches)} sample(s) have '
                'modalities of different sizes (HxW); expected '
                'registered pairs of identical size:\n' +
                _listing(mismatches))

    def load_data_list(self) -> List[dict]:
        """Index the modality folders and pair their files by stem.

        Returns:
            list[dict]: ``dict(img_path={modality: path}, stem=str,
            modalities=tuple)`` per sample, sorted by stem.
        """
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
                    f'{_listing([repr(s) for s in absent])}')
        else:
            stems = set()
            for mod in self.modalities:
                stems.update(files[mod])

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
                    _listing(unpaired))
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
