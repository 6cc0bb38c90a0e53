"""Walking a config: dotted key paths and the classes ``type`` names."""
from contextlib import suppress
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import Registry

#: top-level keys read by the runner and the config machinery
RUNNER_KEYS = frozenset({
    '_base_', 'activation_checkpointing', 'auto_scale_lr', 'compile',
    'custom_hooks', 'custom_imports', 'data_preprocessor', 'default_hooks',
    'default_scope', 'efficient_conv_bn_eval', 'env_cfg', 'experiment_name',
    'find_unused_parameters', 'gpu_ids', 'launcher', 'load_from',
    'log_level', 'log_processor', 'model', 'model_wrapper_cfg',
    'optim_wrapper', 'param_scheduler', 'randomness', 'resume', 'runner_type',
    'strategy', 'test_cfg', 'test_dataloader', 'test_evaluator', 'train_cfg',
    'train_dataloader', 'val_cfg', 'val_dataloader', 'val_evaluator',
    'visualizer', 'work_dir', 'work_dir_lock'
})


def config_items(node: Any, prefix: str = '') -> Iterator[tuple]:
    """``(dotted path, key, value)`` of every node under ``node`` (list
    items keyed by their index), parents first."""
    items = list(node.items() if isinstance(node, Mapping) else enumerate(
        node) if isinstance(node, (list, tuple)) else ())
    for key, value in items:
        path = f'{prefix}.{key}' if prefix else str(key)
        yield path, str(key), value
        yield from config_items(value, path)


def walk_path(node: Any, parts: List[str]) -> Tuple[bool, Any, int]:
    """Follow ``parts`` (dict keys / list indices) into a config: whether
    the whole path exists, the node reached, how many parts were walked."""
    for i, part in enumerate(parts):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() \
                and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, node, i
    return True, node, len(parts)


def set_path(cfg: Config, path: str, value: Any) -> None:
    """Set the value at a dotted path of ``cfg`` (rebuilding tuples)."""

    def put(node: Any, parts: List[str]) -> Any:
        if not parts:
            return value
        if isinstance(node, (list, tuple)):
            items = list(node)
            items[int(parts[0])] = put(items[int(parts[0])], parts[1:])
            return type(node)(items)
        node[parts[0]] = put(node[parts[0]], parts[1:])
        return node

    put(cfg, path.split('.'))


def type_name(node: Any) -> str:
    """The class name a config dict's ``type`` names (no scope)."""
    type_ = node.get('type') if isinstance(node, Mapping) else None
    return type_.__name__ if isinstance(type_, type) else \
        str(type_).rpartition('.')[2].rpartition('::')[2]


def registered_class(type_: Any) -> Optional[type]:
    """The class a ``type`` value names in our registries (and their
    parents, MMEngine's), else None."""
    if not isinstance(type_, str):
        return type_ if isinstance(type_, type) else None
    import mmfusenas.registry as registry
    for reg in vars(registry).values():
        if isinstance(reg, Registry) and reg.scope == 'mmfusenas':
            with suppress(Exception):  # e.g. a scope not installed
                if isinstance(found := reg.get(type_), type):
                    return found
    return None


def config_name(cfg: Config) -> str:
    """``'config <file>'`` (``'config'`` without a file), for messages."""
    return f'config {cfg.filename}' if cfg.filename else 'config'


def runner_part(cfg: Config) -> dict:
    """The top-level keys of ``cfg`` the runner reads, as plain dicts."""
    return {k: v for k, v in cfg.to_dict().items()
            if k in RUNNER_KEYS}


def did_you_mean(names: Iterable[str]) -> str:
    """``'; did you mean A or B?'`` ('' without names), for messages."""
    names = list(names)
    return f'; did you mean {" or ".join(names)}?' if names else ''
