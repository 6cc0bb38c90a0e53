"""The files a run reads: ``--data-root``, ``--pairs``, and the checks that
fail before the runner is built when data or weight files are missing."""
import os
import os.path as osp
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from mmengine.config import Config

from .config_tree import (config_items, config_name, runner_part, set_path,
                          type_name, walk_path)

#: ``--pairs`` holds out one pair in this many (at least one) for validation
PAIRS_VAL_EVERY = 10
#: the layouts of the data sets (the page links the detection,
#: segmentation and restoration layouts)
DATA_DOC = 'docs/user_guides/datasets.md#layouts'


def _under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (by folders)."""
    root = root.rstrip('/')
    return path.rstrip('/') == root or path.startswith(root + '/')


def _old_roots(cfg: Config) -> List[str]:
    """The roots ``--data-root`` replaces, longest first: the config's
    ``data_root`` variable and the common folder of the dataset roots
    outside it (a base's ``data_root``, which a child's does not reach)."""
    found = {v for _, k, v in config_items(cfg._cfg_dict.to_dict())
             if k == 'data_root' and isinstance(v, str) and v}
    base = cfg.get('data_root')
    old = [base] if isinstance(base, str) and base else []
    outside = sorted(r for r in found if not any(_under(r, b) for b in old))
    if outside:
        try:
            common = osp.commonpath([r.rstrip('/') or '/' for r in outside])
        except ValueError:  # absolute and relative paths mixed
            common = ''
        if common in ('', '/', '.'):
            raise ValueError(
                f'--data-root: {cfg.filename or "the config"} reads data '
                f'from unrelated folders {outside}; one --data-root cannot '
                'replace them all. Set each dataset root with --cfg-options '
                '(e.g. train_dataloader.dataset.data_root=...)')
        old.append(common)
    return sorted(old, key=len, reverse=True)


def reroot_data(cfg: Config, data_root: str) -> List[str]:
    """Point every dataset of ``cfg`` at ``data_root`` (``--data-root``):
    every string under an old root (:func:`_old_roots`) moves under
    ``data_root``, keeping sub-folders.

    Returns:
        list[str]: the dotted keys that changed.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root folder does not exist: '
                                f'{data_root}')
    old, changed = _old_roots(cfg), []
    tree = {k: v for k, v in cfg._cfg_dict.items() if k != 'data_root'}
    for path, _, value in config_items(tree):  # shared dicts: once
        root = next((r for r in old if isinstance(value, str) and value
                     and _under(value, r)), None)
        if root is not None:
            rest = value[len(root.rstrip('/')):].lstrip('/')
            moved = osp.join(data_root, rest) if rest else data_root
            if moved != value:
                set_path(cfg, path, moved)
                changed.append(path)
    if not changed:
        raise ValueError(
            f'--data-root {data_root}: nothing in '
            f'{cfg.filename or "the config"} lies under a data root '
            f'({old or "no dataset has a data_root"}), so the option would '
            'change nothing; set the dataset paths with --cfg-options')
    if 'data_root' in cfg:
        cfg.data_root = data_root
    return changed


def _run_loaders(cfg: Config, mode: str) -> List[Tuple[str, Any]]:
    """``(dotted key, config)`` of the dataloaders a run builds: the test
    loader for ``'test'``; for ``'train'`` every other ``*dataloader`` the
    runner reads (validation only with a ``val_cfg``; a search's
    ``train_cfg.arch_dataloader``, a hook's ``dataloader``, ...)."""
    if mode == 'test':
        return [('test_dataloader', cfg.test_dataloader)] \
            if cfg.get('test_dataloader') else []
    skip = {'test_dataloader'} | (
        {'val_dataloader'} if cfg.get('val_cfg') is None else set())
    loaders: List[Tuple[str, Any]] = []
    tree = {k: v for k, v in runner_part(cfg).items() if k not in skip}
    for path, key, value in config_items(tree):
        parent = path.rpartition('.')[0]
        if isinstance(value, Mapping) and (
                key.endswith('dataloader') or parent.endswith('dataloaders')
        ) and not any(path.startswith(f'{p}.') for p, _ in loaders):
            loaders.append((path, value))
    return loaders


def _missing_data(dataset: Mapping) -> List[Tuple[str, str, str]]:
    """``(key, path, what)`` of the paths of a dataset that do not exist:
    its ``data_root`` folder, else its ``ann_file`` and ``data_prefix``
    folders (relative ones under ``data_root``). URLs are left out."""
    root = dataset.get('data_root')
    root = root if isinstance(root, str) else ''
    if '://' in root:
        return []
    if root and not osp.isdir(root):
        return [('data_root', root, 'is not a folder')]
    prefix = dataset.get('data_prefix')
    paths = [('ann_file', dataset.get('ann_file'))] + [
        (f'data_prefix.{k}', v) for k, v in (
            prefix.items() if isinstance(prefix, Mapping) else [])]
    return [(key, osp.join(root, value), 'does not exist')
            for key, value in paths
            if isinstance(value, str) and value and '://' not in value
            and not osp.exists(osp.join(root, value))]


def toy_sibling(config: Optional[str]) -> Optional[str]:
    """The toy version ``x_toy.py`` of a config ``x.py``, when it exists."""
    if not config or not config.endswith('.py'):
        return None
    stem = osp.basename(config)[:-3]
    sibling = f'{config[:-3]}_toy.py'
    toy = stem.endswith('_toy') or '_toy_' in stem
    return sibling if not toy and osp.isfile(sibling) else None


def check_data_folders(cfg: Config, mode: str = 'train') -> None:
    """Raise FileNotFoundError, one line per path and then how to get the
    data, when a ``data_root``, ``ann_file`` or ``data_prefix`` of a dataset
    the run (``mode``: ``'train'`` or ``'test'``) builds is missing."""
    from .toy_data_commands import toy_data_command
    lines, toys, first, pairs, coco = [], [], None, False, False
    for key, loader in _run_loaders(cfg, mode):
        found: List[str] = []  # the outermost dicts naming data paths
        for path, _, dataset in config_items(
                dict(dataset=loader.get('dataset')), key):
            if not (isinstance(dataset, Mapping) and {
                    'data_root', 'ann_file', 'data_prefix'} & set(dataset)) \
                    or 'pipeline' in path.split('.') \
                    or any(path.startswith(f'{d}.') for d in found):
                continue
            found.append(path)
            for sub, missing, what in _missing_data(dataset):
                first = first or f'{path}.{sub}'
                pairs = pairs or type_name(dataset) == 'PairedImageDataset'
                coco = coco or (type_name(dataset) == 'PairedDetDataset'
                                and sub == 'ann_file')
                line = (f'  {path} ({type_name(dataset)}): {sub} '
                        f'{missing!r} {what}')
                lines += [line] if line not in lines else []
                command = toy_data_command(missing)
                toys += [command] if command and command not in toys else []
    if not lines:
        return
    where = f'config {cfg.filename}' if cfg.filename else 'the config'
    text = [f'{where}: the data of this run is missing (paths from '
            f'{os.getcwd()}):'] + lines
    if toys:
        text.append('This is toy data; write it with: '
                    + '; '.join(f'`{c}`' for c in toys) + '.')
    else:
        text.append(
            f'Put the data there (folder layouts: {DATA_DOC}) or point the '
            'config at it: --data-root DIR re-roots every dataset, '
            f'--cfg-options {first}=DIR sets one path.')
        if coco:
            text.append('A PairedDetDataset json of VOC / YOLO / KAIST boxes '
                        'is written by `python tools/dataset_converters/'
                        'paired_to_coco.py` (the command is in the dataset '
                        "config's comment).")
        if mode == 'train' and pairs:  # fusion data
            text.append('Your own pairs in two folders (matched by stem, no '
                        'split file): tools/train.py CONFIG --pairs IR_DIR '
                        'VI_DIR.')
        sibling = toy_sibling(cfg.filename)
        if sibling is not None:
            rel = osp.relpath(sibling)
            text.append(f'No data? {sibling if rel.startswith("..") else rel}'
                        ' is the toy sibling of this config: the same '
                        'pipeline on the embedded toy data.')
    raise FileNotFoundError('\n'.join(text))


#: weight files a config may name, by key: where they come from, and the
#: ``--cfg-options`` that do without them
_WEIGHT_FILES = {
    'feature_weights': (
        "torchvision's ImageNet VGG16 state dict, https://download.pytorch."
        'org/models/vgg16-397923af.pth', '{parent}.measure=gradient {path}='
        'None (the weight-free gradient measure of U2Fusion)'),
    'checkpoint': ('the pretrained weights of this init_cfg',
                   '{parent}=None (random initialisation)'),
    'pretrained': ('the pretrained weights of this model',
                   '{path}=None (random initialisation)'),
    'load_from': ('a checkpoint of an earlier run', 'load_from=None'),
}


def check_run_files(cfg: Config) -> None:
    """Raise FileNotFoundError before the runner is built when a local
    ``feature_weights`` / ``pretrained`` / ``load_from`` file or a
    ``Pretrained`` ``init_cfg``'s ``checkpoint`` is missing, naming where
    to get it and the option that does without it."""
    tree, where, errors = runner_part(cfg), config_name(cfg), []
    for path, key, value in config_items(tree):
        parent = path.rpartition('.')[0]
        if key not in _WEIGHT_FILES or not isinstance(value, str) or \
                not value or '://' in value or osp.isfile(value):
            continue
        if key == 'checkpoint' and type_name(walk_path(
                tree, parent.split('.'))[1]) != 'Pretrained':
            continue
        source, avoid = _WEIGHT_FILES[key]
        errors.append(
            f'{where}: {path} = {value!r} is not a file (from '
            f'{os.getcwd()}). It is {source}. Put it there, point '
            f'{path} at it, or run without it: --cfg-options '
            f'{avoid.format(path=path, parent=parent)}')
    if errors:
        raise FileNotFoundError('\n'.join(errors))


def use_pair_folders(cfg: Config, folders: Tuple[str, str],
                     img_suffixes: Sequence[str]) -> List[str]:
    """Train and validate ``cfg`` on two folders of image pairs
    (``tools/train.py --pairs IR_DIR VI_DIR``).

    Files pair by stem; one pair in every :data:`PAIRS_VAL_EVERY` (at
    least one) is held out for validation and test. The first folder is
    the config's first modality; a ``val_begin`` after the end of training
    is dropped.

    Returns:
        list[str]: lines for the log: the pairs and the held-out stems.
    """
    where = cfg.filename or 'the config'
    datasets = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        if type_name(dataset) == 'PairedImageDataset':
            datasets[key] = dataset
        elif key != 'test_dataloader':
            raise ValueError(
                f'--pairs trains fusion configs, whose {key}.dataset is a '
                f'PairedImageDataset; {key}.dataset of {where} is '
                f'{type_name(dataset)}')
    others = [key for key, _ in _run_loaders(cfg, 'train')
              if key not in ('train_dataloader', 'val_dataloader')]
    if others:
        raise ValueError(f'--pairs sets the train and validation data only; '
                         f'{where} also reads {", ".join(others)}')
    train = datasets['train_dataloader']
    modalities = list(train.get('data_prefix') or {}) or ['ir', 'vi']
    if len(modalities) != 2:
        raise ValueError(f'--pairs gives two folders, but {where} fuses '
                         f'{len(modalities)} modalities {modalities}')
    suffixes = tuple(s.lower() for s in train.get('img_suffixes',
                                                  img_suffixes))
    for folder in folders:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'--pairs: {folder} is not a folder')
    # as PairedImageDataset reads a modality folder
    stems = [{osp.splitext(name)[0] for name in os.listdir(folder)
              if not name.startswith('.')
              and osp.splitext(name)[1].lower() in suffixes
              and osp.isfile(osp.join(folder, name))} for folder in folders]
    for i in (0, 1):
        alone = sorted(stems[i] - stems[1 - i])
        if alone:
            raise ValueError(
                f'--pairs: {len(alone)} image(s) of {folders[i]} have no '
                f'file of the same stem in {folders[1 - i]}: '
                f'{", ".join(alone[:10])}{", ..." if len(alone) > 10 else ""}'
                '. The two folders must hold the same stems (one file per '
                'pair in each, e.g. ir/0001.png and vi/0001.jpg)')
    paired, names = sorted(stems[0]), ' and '.join(folders)
    if len(paired) < 2:
        raise ValueError(
            f'--pairs needs at least 2 pairs (one to train on, one held out '
            f'for validation); {names} hold {len(paired)} (images: '
            f'{", ".join(suffixes)})')
    n, n_val = len(paired), max(1, len(paired) // PAIRS_VAL_EVERY)
    held = [(2 * i + 1) * n // (2 * n_val) for i in range(n_val)]
    kept = [i for i in range(n) if i not in held]
    prefix = dict(zip(modalities, map(osp.abspath, folders)))
    for key, dataset in datasets.items():
        dataset.update(data_root=osp.commonpath(list(prefix.values())),
                       data_prefix=prefix, ann_file='',
                       indices=kept if key == 'train_dataloader' else held)
    shown = ', '.join(paired[i] for i in held[:10])
    lines = [f'--pairs: {n} pairs matched by stem in {names} '
             f'({" / ".join(modalities)}): {len(kept)} train, {n_val} held '
             f'out for validation (one in every {PAIRS_VAL_EVERY} in name '
             f'order, at least one): {shown}{", ..." if n_val > 10 else ""}']
    train_cfg = cfg.get('train_cfg') or {}
    length = train_cfg.get('max_iters', train_cfg.get('max_epochs'))
    if isinstance(train_cfg.get('val_begin'), int) and \
            isinstance(length, int) and train_cfg.val_begin > length:
        lines.append(f'--pairs: validating on the held-out pairs '
                     f'(train_cfg.val_begin {train_cfg.pop("val_begin")} '
                     f'was after the end of training)')
    return lines
