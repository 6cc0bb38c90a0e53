"""``tools/train.py --pairs IR_DIR VI_DIR``: train a fusion config on two
folders of image pairs matched by stem."""
import os.path as osp
from typing import List, Sequence

from mmengine.config import Config

from mmfusenas.utils.config_tree import type_name
from mmfusenas.utils.data_folders import run_loaders
from .paired_image_dataset import list_files

#: ``--pairs`` holds out one pair in this many (at least one) for validation
PAIRS_VAL_EVERY = 10


def use_pair_folders(cfg: Config, folders: Sequence[str],
                     img_suffixes: Sequence[str]) -> List[str]:
    """Train and validate ``cfg`` on two folders of image pairs matched by
    stem (``--pairs``), holding one pair in :data:`PAIRS_VAL_EVERY` (at
    least one) out for validation and test; returns the log lines."""
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
    others = [key for key, _ in run_loaders(cfg, 'train')
              if key not in ('train_dataloader', 'val_dataloader')]
    train = datasets['train_dataloader']
    modalities = list(train.get('data_prefix') or {}) or ['ir', 'vi']
    if others or len(modalities) != 2:
        raise ValueError(
            f'--pairs gives the train and validation data of two modalities;'
            f' {where} ' + (f'also reads {", ".join(others)}' if others else
                            f'fuses {modalities}'))
    suffixes = tuple(s.lower() for s in train.get('img_suffixes',
                                                  img_suffixes))
    for folder in folders:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'--pairs: {folder} is not a folder')
    if osp.samefile(*folders):
        raise ValueError(
            f'--pairs: {folders[0]} and {folders[1]} are the same folder '
            f'({osp.realpath(folders[0])}): give the {modalities[0]} folder,'
            f' then the {modalities[1]} one')
    stems = [{osp.splitext(osp.basename(path))[0]
              for path in list_files(folder, suffixes)} for folder in folders]
    for i in (0, 1):
        alone = sorted(stems[i] - stems[1 - i])
        if alone:
            raise ValueError(
                f'--pairs: {len(alone)} image(s) of {folders[i]} have no '
                f'file of the same stem in {folders[1 - i]}: '
                f'{", ".join(alone[:10])}{", ..." * (len(alone) > 10)}.')
    paired, names = sorted(stems[0]), ' and '.join(folders)
    if len(paired) < 2:
        raise ValueError(f'--pairs needs at least 2 pairs (one held out for '
                         f'validation); {names} hold {len(paired)} (images: '
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


def pairs_work_dir(config: str) -> str:
    """The default work dir of a ``--pairs`` run of ``config``:
    ``./work_dirs/<config name>_pairs``, apart from the config's own
    runs."""
    return osp.join('./work_dirs',
                    f'{osp.splitext(osp.basename(config))[0]}_pairs')
