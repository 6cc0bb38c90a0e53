"""Search-space descriptions as data: which configs are choice points, and
the expansion of edge templates into explicit per-edge choice points.

Genotypes (:mod:`.genotype`) and the cells / necks / heads that hold choice
points both read this module; it imports nothing from cells, so the
dependency runs one way: cells -> mutables -> ops.
"""
import copy
from typing import Any

from mmfusenas.registry import MODELS

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

    ``fix_space_cfg`` (and so ``Genotype.from_space`` / ``GenotypeNet``)
    rewrites each ``DiffMixedOp`` config by its chosen candidate, looked up
    by the config's key; a template's key is only a prefix of the keys of
    the mixed ops built from it, so a search space written with templates
    must be expanded first. Modules whose class defines
    ``expand_edge_cfg(cfg)`` (:class:`FeatureDistillationCell`,
    :class:`~mmfusenas.models.necks.SearchableDistillationNeck`,
    :class:`~mmfusenas.models.decode_heads.SearchableDistillationHead`) are
    expanded; everything else is copied. The result builds the same
    network, with the same keys. Usable in a config file::

        from mmfusenas.models.mutables import expand_edge_templates
        neck = expand_edge_templates(dict(type=..., edge_cfg=...))

    Args:
        cfg: any config (dicts / lists / tuples nest).

    Returns:
        A new config without templates.
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
