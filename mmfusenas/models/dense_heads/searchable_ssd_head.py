"""SSD head whose prediction convs are searched (RUAS Sec. 5, Table 1)."""
import copy
import inspect
from typing import Any, Dict, List, Optional, Sequence

from mmdet.models.dense_heads import SSDHead
from mmengine.registry import DefaultScope

from mmfusenas.models.ops import build_edge
from mmfusenas.models.compound.compat_ssd_head import CompatSSDHead
from mmfusenas.models.mutables.position_specs import (Position,
                                                      check_op_cfg_or_ops,
                                                      position_specs)
from mmfusenas.registry import MODELS

BRANCHES = ('cls', 'reg')


def _ssd_default(name: str) -> Any:
    return inspect.signature(SSDHead.__init__).parameters[name].default


def _num_base_priors(anchor_generator: dict) -> List[int]:
    """Anchors per location of every level of an anchor generator config."""
    from mmdet.registry import TASK_UTILS
    with DefaultScope.overwrite_default_scope('mmdet'):
        gen = TASK_UTILS.build(copy.deepcopy(anchor_generator))
    return list(gen.num_base_priors)


def ssd_head_positions(in_channels: Sequence[int], num_classes: int,
                       num_base_priors: Sequence[int]) -> Dict[str, list]:
    """``{'cls': positions, 'reg': positions}`` of an SSD head."""
    if isinstance(in_channels, int) or not len(in_channels):
        raise ValueError(f'in_channels must list the channels of every '
                         f'level, got {in_channels!r}')
    if len(num_base_priors) != len(in_channels):
        raise ValueError(f'the anchor generator has {len(num_base_priors)} '
                         f'levels, in_channels {len(in_channels)} '
                         f'({list(in_channels)})')
    return dict(
        cls=[(f'cls{i}', a * (num_classes + 1), 1)
             for i, a in enumerate(num_base_priors)],
        reg=[(f'reg{i}', a * 4, 1) for i, a in enumerate(num_base_priors)])


def _branch_specs(ops: Optional[dict], op_cfg: Any,
                  positions: Dict[str, List[Position]],
                  owner: str) -> Dict[str, list]:
    check_op_cfg_or_ops(ops, op_cfg, owner)
    if ops is not None and (not isinstance(ops, dict)
                            or set(ops) != set(BRANCHES)):
        raise ValueError(f"{owner}: `ops` must be dict(cls=[...], reg=[...]) "
                         f'with one spec per level each, got {ops!r}')
    return {
        b: position_specs(None if ops is None else ops[b], op_cfg,
                          positions[b], owner, f"ops['{b}']")
        for b in BRANCHES
    }


@MODELS.register_module()
class SearchableSSDHead(CompatSSDHead):
    """mmdet's SSD head whose per-level prediction convs are searched (RUAS).

    The last conv of ``cls_convs[i]`` and ``reg_convs[i]`` is an operator built
    from an edge spec; with ``'3-C'`` the head is mmdet's ``SSDHead``. A
    ``DiffMixedOp`` template with key ``k`` gives ``k/cls<i>`` and ``k/reg<i>``
    (:meth:`expand_op_cfg`).

    Args:
        op_cfg (str | dict, optional): one template for every position.
        ops (dict, optional): ``dict(cls=[...], reg=[...])``, one spec per
            level. Give exactly one of ``op_cfg`` and ``ops``.
        **kwargs: ``mmdet.models.dense_heads.SSDHead`` arguments.
    """

    def __init__(self,
                 op_cfg: Optional[Any] = None,
                 ops: Optional[dict] = None,
                 **kwargs) -> None:
        check_op_cfg_or_ops(ops, op_cfg, type(self).__name__)
        # read by _init_layers, which SSDHead.__init__ calls
        self._op_cfg = copy.deepcopy(op_cfg)
        self._ops = copy.deepcopy(ops)
        super().__init__(**kwargs)

    @classmethod
    def _positions(cls, cfg: dict) -> Dict[str, List[Position]]:
        anchor_generator = cfg.get('anchor_generator',
                                   _ssd_default('anchor_generator'))
        return ssd_head_positions(
            cfg.get('in_channels', _ssd_default('in_channels')),
            cfg.get('num_classes', _ssd_default('num_classes')),
            _num_base_priors(anchor_generator))

    @classmethod
    def expand_op_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with ``op_cfg`` expanded into
        ``ops=dict(cls=[...], reg=[...])``."""
        cfg = copy.deepcopy(dict(cfg))
        specs = _branch_specs(cfg.get('ops'), cfg.get('op_cfg'),
                              cls._positions(cfg), cls.__name__)
        cfg.pop('op_cfg', None)
        cfg['ops'] = specs
        return cfg

    def _init_layers(self) -> None:
        """mmdet's layers, the last conv of each branch built from a spec."""
        super()._init_layers()
        positions = ssd_head_positions(self.in_channels, self.num_classes,
                                       self.num_base_priors)
        specs = _branch_specs(self._ops, self._op_cfg, positions,
                              type(self).__name__)
        # the specs name mmfusenas modules: build them in our scope
        with DefaultScope.overwrite_default_scope('mmfusenas'):
            for branch, convs in (('cls', self.cls_convs), ('reg',
                                                            self.reg_convs)):
                for level, tower in enumerate(convs):
                    last = tower[-1]
                    tower[-1] = build_edge(specs[branch][level],
                                           last.in_channels)
        self.op_specs = specs
