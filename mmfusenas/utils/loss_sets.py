"""Named loss sets: ``configs/_base_/losses/<name>.py``, each one list
``losses``, picked by name with ``--cfg-options model.losses=<name>``."""
import difflib
import os
import os.path as osp
from typing import Any, List, Mapping

from mmengine.config import Config

from .config_tree import config_items, runner_part, walk_path

LOSS_RECIPE_DOC = 'docs/user_guides/fusion_losses.md#swapping-the-losses'


def loss_sets_dir() -> str:
    """The folder of the loss sets: ``configs/_base_/losses``, as the
    package ships it (``mmfusenas/.mim/configs`` links ``configs``)."""
    return osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim',
                    'configs', '_base_', 'losses')


def loss_set_names() -> List[str]:
    """The names of the loss sets (the files of :func:`loss_sets_dir`)."""
    folder = loss_sets_dir()
    if not osp.isdir(folder):
        return []
    return sorted(name[:-3] for name in os.listdir(folder)
                  if name.endswith('.py') and not name.startswith('_'))


def _is_loss_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(item, Mapping) and 'type' in item for item in value)


def load_loss_set(name: str) -> List[dict]:
    """The ``losses`` list of the loss set ``name`` (e.g. ``'tim'``).

    Raises:
        KeyError: no set of that name (the message lists the sets).
        ValueError: the set's file defines no list of loss configs.
    """
    names = loss_set_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f'; did you mean {close[0]}?' if close else ''
        raise KeyError(
            f'no loss set named {name!r}{hint} The loss sets are '
            f'{", ".join(names) or "(none)"} ({loss_sets_dir()}/<name>.py; '
            f'{LOSS_RECIPE_DOC}).')
    path = osp.join(loss_sets_dir(), f'{name}.py')
    losses = Config.fromfile(path)._cfg_dict.to_dict().get('losses')
    if not _is_loss_list(losses):
        raise ValueError(f'{path}: a loss set defines `losses`, a list of '
                         'loss configs (dict(type=...))')
    return list(losses)


def resolve_loss_sets(cfg: Config, options: Mapping) -> dict:
    """The options of ``options`` that name a loss set, with its list.

    A string given for a key of ``cfg`` named ``*losses`` that holds a list
    of ``dict(type=...)`` names a set of :func:`loss_set_names`.

    Returns:
        dict: ``{key: the set's list}`` for those options.

    Raises:
        KeyError: an unknown set name, or a set name for a key the config
            lacks (the message names the config's loss lists).
    """
    out = {}
    for key, value in options.items():
        if not isinstance(value, str) or \
                not str(key).rpartition('.')[2].endswith('losses'):
            continue
        found, node, _ = walk_path(cfg._cfg_dict, str(key).split('.'))
        if found and _is_loss_list(node):
            try:
                out[key] = load_loss_set(value)
            except KeyError as err:
                raise KeyError(f'--cfg-options {key}={value}: '
                               f'{err.args[0]}') from None
        elif not found and value in loss_set_names():
            lists = [p for p, k, v in config_items(runner_part(cfg))
                     if k.endswith('losses') and _is_loss_list(v)]
            raise KeyError(
                f'--cfg-options {key}={value}: {cfg.filename or "the config"}'
                f' has no {key}; its loss lists are '
                f'{", ".join(lists) or "(none)"}, e.g. --cfg-options '
                f'{lists[0] if lists else "model.losses"}={value}')
    return out
