"""Search-space descriptions as data: which configs are choice points, the
expansion of edge templates, and the YAML / JSON files of search results.
"""
import copy
import json
import os.path as osp
from typing import Any

import yaml

from mmfusenas.registry import MODELS
from mmfusenas.utils.fileio import atomic_write

#: config ``type`` values that mark a differentiable choice point.
MUTABLE_TYPES = ('DiffMixedOp', 'mmfusenas.DiffMixedOp')


def _module_class(type_name: Any) -> Any:
    """The class a config ``type`` names (``None`` if unknown here)."""
    if isinstance(type_name, type):
        return type_name
    if isinstance(type_name, str):
        return MODELS.get(type_name)
    return None


def expand_edge_templates(cfg: Any) -> Any:
    """Replace every ``edge_cfg`` template in a config by explicit ``ops``.

    Needed before ``fix_space_cfg``; modules whose class defines
    ``expand_edge_cfg(cfg)`` are expanded, everything else copied. Usable in a
    config file.
    """
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(expand_edge_templates(v) for v in cfg)
    if not isinstance(cfg, dict):
        return copy.deepcopy(cfg)
    if cfg.get('edge_cfg') is not None:
        cls = _module_class(cfg.get('type'))
        if hasattr(cls, 'expand_edge_cfg'):
            cfg = cls.expand_edge_cfg(cfg)
    if cfg.get('op_cfg') is not None:
        cls = _module_class(cfg.get('type'))
        if hasattr(cls, 'expand_op_cfg'):
            cfg = cls.expand_op_cfg(cfg)
    return {k: expand_edge_templates(v) for k, v in cfg.items()}


def dump_data_file(data: dict, path: str, what: str) -> None:
    """Write ``data`` as YAML (``.yaml`` / ``.yml``) or JSON, atomically."""
    if path.endswith(('.yaml', '.yml')):
        text = yaml.safe_dump(data, sort_keys=False)
    elif path.endswith('.json'):
        text = json.dumps(data, indent=2)
    else:
        raise ValueError(f'{what} file must end in .yaml, .yml or .json, '
                         f'got {path}')
    atomic_write(text, path)


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping with a key twice."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or \
                    key_node.tag == 'tag:yaml.org,2002:merge':
                continue  # merge keys (``<<``) may be overridden
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'duplicate key {key!r}', key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_data_file(path: str, what: str, hint: str = '') -> Any:
    """Read a YAML / JSON file (``FileNotFoundError`` adds ``hint``).

    Raises:
        ValueError: naming ``path``: not valid YAML / JSON or UTF-8, or a
            YAML mapping with a key twice (the key and its line named).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file not found: {path}{hint}')
    with open(path, encoding='utf-8') as f:
        try:
            return json.load(f) if path.endswith('.json') else \
                yaml.load(f, Loader=UniqueKeyLoader)
        except (ValueError, yaml.YAMLError) as err:
            raise ValueError(f'{path} is not valid YAML/JSON: {err}') from err
