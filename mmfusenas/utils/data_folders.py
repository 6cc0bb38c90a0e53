"""The data a run reads: ``--data-root``, and the check that its folders
exist before the runner is built (naming how to write toy data)."""
import os
import os.path as osp
from typing import Any, List, Mapping, Optional, Tuple

from mmengine.config import Config

from .config_tree import config_items, runner_part, set_path, type_name

#: ``{folder under data/: arguments of python tools/misc/make_toy_*.py}``
#: (``{root}``: the folder as named)
TOY_DATA_COMMANDS = {
    'toy': 'make_toy_data.py {root} --num 300 --seed 0',
    'toy_night': 'make_toy_data.py {root} --num 300 --seed 0 '
    '--night-fraction 1.0 --night-darkness 4',
    'toy_multispectral': 'make_toy_data.py {root} --layout multispectral '
    '--num 300 --seed 0',
    'toy_lowlight': 'make_toy_lowlight.py {root}',
    'toy_exdark': 'make_toy_lowlight_tasks.py {root} --task exdark',
    'toy_darkface': 'make_toy_lowlight_tasks.py {root} --task darkface',
    'toy_acdc': 'make_toy_lowlight_tasks.py {root} --task acdc',
    'toy_deblur': 'make_toy_deblur.py {root}',
    'toy_restoration': 'make_toy_deblur.py {root} --derain-dehaze',
    'toy_haze': 'make_toy_restoration.py haze {root}',
    'toy_underwater': 'make_toy_restoration.py underwater {root}',
    'toy_rgbd': 'make_toy_rgbd.py {root}',
}
#: the layouts of the data sets (detection, segmentation, restoration)
DATA_DOC = 'docs/user_guides/datasets.md#layouts'


def toy_data_command(path: str) -> Optional[str]:
    """The command that writes the toy data set ``path`` lies in (a folder
    of :data:`TOY_DATA_COMMANDS` directly under a ``data`` folder)."""
    parts = str(path).replace('\\', '/').split('/')
    for i, part in enumerate(parts[1:], 1):
        if part in TOY_DATA_COMMANDS and parts[i - 1] == 'data':
            return 'python tools/misc/' + TOY_DATA_COMMANDS[part].format(
                root='/'.join(parts[:i + 1]))
    return None


def _under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (by folders)."""
    root = root.rstrip('/')
    return path.rstrip('/') == root or path.startswith(root + '/')


def reroot_data(cfg: Config, data_root: str) -> List[str]:
    """Move every string under an old data root (the config's ``data_root``
    and the common folder of the dataset roots outside it) under
    ``data_root``, keeping sub-folders; returns the changed keys."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root folder does not exist: '
                                f'{data_root}')
    where, base = cfg.filename or 'the config', cfg.get('data_root')
    old = [base] if isinstance(base, str) and base else []
    outside = sorted({v for _, k, v in config_items(cfg.to_dict())
                      if k == 'data_root' and isinstance(v, str) and v
                      and not any(_under(v, b) for b in old)})
    if outside:
        try:
            common = osp.commonpath([r.rstrip('/') or '/' for r in outside])
        except ValueError:  # absolute and relative paths mixed
            common = ''
        if common in ('', '/', '.'):
            raise ValueError(
                f'--data-root: {where} reads data from unrelated folders '
                f'{outside}; set each dataset root with --cfg-options (e.g. '
                'train_dataloader.dataset.data_root=...)')
        old.append(common)
    old.sort(key=len, reverse=True)
    changed = []
    tree = {k: v for k, v in cfg.items() if k != 'data_root'}
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
            f'--data-root {data_root}: nothing in {where} lies under a data '
            f'root ({old or "no dataset has a data_root"}); set the dataset '
            'paths with --cfg-options')
    if 'data_root' in cfg:
        cfg.data_root = data_root
    return changed


def run_loaders(cfg: Config, mode: str) -> List[Tuple[str, Any]]:
    """``(dotted key, config)`` of the dataloaders a run builds: the test
    loader for ``'test'``; for ``'train'`` every other ``*dataloader`` the
    runner reads (validation only with a ``val_cfg``)."""
    if mode == 'test':
        return [('test_dataloader', cfg.test_dataloader)] \
            if cfg.get('test_dataloader') else []
    skip = {'test_dataloader'} | (
        {'val_dataloader'} if cfg.get('val_cfg') is None else set())
    loaders: List[Tuple[str, Any]] = []
    tree = {k: v for k, v in runner_part(cfg).items() if k not in skip}
    for path, key, value in config_items(tree):
        if isinstance(value, Mapping) and (
                key.endswith('dataloader')
                or path.rpartition('.')[0].endswith('dataloaders')
        ) and not any(path.startswith(f'{p}.') for p, _ in loaders):
            loaders.append((path, value))
    return loaders


def _missing_data(dataset: Mapping) -> List[Tuple[str, str, str]]:
    """``(key, path, what)`` of the missing paths of a dataset: its
    ``data_root`` folder, else its ``ann_file`` and ``data_prefix`` (under
    ``data_root``). URLs are left out."""
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
    stem, sibling = osp.basename(config)[:-3], f'{config[:-3]}_toy.py'
    toy = stem.endswith('_toy') or '_toy_' in stem
    return sibling if not toy and osp.isfile(sibling) else None


def check_data_folders(cfg: Config, mode: str = 'train') -> None:
    """Raise FileNotFoundError, one line per path and then how to get the
    data, when a ``data_root``, ``ann_file`` or ``data_prefix`` of a dataset
    the run (``mode``: ``'train'`` or ``'test'``) builds is missing."""
    lines, toys, types, first = [], [], set(), None
    for key, loader in run_loaders(cfg, mode):
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
                types.add(type_name(dataset) + (sub == 'ann_file') * '.ann')
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
    sibling = toy_sibling(cfg.filename)
    if toys:
        text.append('This is toy data; write it with: '
                    + '; '.join(f'`{c}`' for c in toys) + '.')
    else:
        text.append(
            f'Put the data there (folder layouts: {DATA_DOC}) or point the '
            'config at it: --data-root DIR re-roots every dataset, '
            f'--cfg-options {first}=DIR sets one path.')
        if 'PairedDetDataset.ann' in types:
            text.append('`python tools/dataset_converters/paired_to_coco.py`'
                        ' writes the json of VOC / YOLO / KAIST boxes.')
        if mode == 'train' and types & {'PairedImageDataset',
                                        'PairedImageDataset.ann'}:
            text.append('Your own pairs in two folders: tools/train.py '
                        'CONFIG --pairs IR_DIR VI_DIR.')
        if sibling is not None:
            rel = osp.relpath(sibling)
            text.append(f'No data? {sibling if rel.startswith("..") else rel}'
                        ' is the toy sibling of this config: the same '
                        'pipeline on the embedded toy data.')
    raise FileNotFoundError('\n'.join(text))
