"""Loss hyper-parameters as a search target: weights beta and softmax groups
gamma.

:class:`LossHyperParams` holds both, keyed by loss name (HBL's loss
search); losses with candidates declare ``hyper_logit_groups()`` and are
bound with :func:`bind_loss_hyper`. Loss-weight files
(``mmfusenas-loss-weights/1``) are read by :func:`load_loss_weights`.
"""
from typing import Iterable, Mapping, Optional, Sequence

import torch
import torch.nn as nn

from mmfusenas.utils.fileio import is_finite_number
from .space import dump_data_file, load_data_file

FORMAT = 'mmfusenas-loss-weights/1'


def _check_key(key: str, what: str) -> None:
    if not isinstance(key, str) or not key or '.' in key:
        raise ValueError(f"{what} must be a non-empty string without '.', "
                         f'got {key!r}')


class LossHyperParams(nn.Module):
    """Loss weights beta (one per loss name) and logit groups gamma.

    Args:
        init_weight (float | dict): initial beta (one value or ``{name:
            value}``). Defaults to 1.0.
        logit_init_std (float): gamma is initialised as ``std * N(0, 1)``.
            Defaults to 1e-3.
        clamp_min (float, optional): :meth:`project_` clamps beta to ``>=
            clamp_min``; None disables. Defaults to 0.0.
        clamp_logits (bool): also clamp gamma (official HBL). Defaults to True.
    """

    def __init__(self,
                 init_weight=1.0,
                 logit_init_std: float = 1e-3,
                 clamp_min: Optional[float] = 0.0,
                 clamp_logits: bool = True) -> None:
        super().__init__()
        self.init_weight = init_weight
        self.logit_init_std = logit_init_std
        self.clamp_min = clamp_min
        self.clamp_logits = clamp_logits
        self.weights = nn.ParameterDict()
        self.logits = nn.ParameterDict()

    def register_weight(self, name: str) -> None:
        """Add β for the loss ``name`` (no-op when present)."""
        _check_key(name, 'loss name')
        if name in self.weights:
            return
        init = self.init_weight
        if isinstance(init, Mapping):
            init = init.get(name, 1.0)
        self.weights[name] = nn.Parameter(torch.tensor(float(init)))

    def register_logits(self, key: str, size: int) -> None:
        """Add γ ``key`` (``<loss name>/<group>``) of ``size`` candidates."""
        if not isinstance(key, str) or not key or '.' in key:
            raise ValueError(f'logit key must be a non-empty string without '
                             f"'.', got {key!r}")
        if key in self.logits:
            if self.logits[key].numel() != size:
                raise ValueError(f'logit group {key!r} has '
                                 f'{self.logits[key].numel()} entries, '
                                 f'asked for {size}')
            return
        if size < 1:
            raise ValueError(f'logit group {key!r} needs >= 1 entry')
        self.logits[key] = nn.Parameter(self.logit_init_std *
                                        torch.randn(size))

    def weight(self, name: str) -> torch.Tensor:
        """β of the loss ``name``."""
        if name not in self.weights:
            raise KeyError(f'no loss weight {name!r}; registered: '
                           f'{list(self.weights)}')
        return self.weights[name]

    def softmax(self, key: str) -> torch.Tensor:
        """``softmax(γ_key)``."""
        if key not in self.logits:
            raise KeyError(f'no logit group {key!r}; registered: '
                           f'{list(self.logits)}')
        return torch.softmax(self.logits[key], dim=-1)

    @torch.no_grad()
    def project_(self) -> None:
        """Clamp β (and, with ``clamp_logits``, γ) to ``>= clamp_min``; run
        after every step of the hyper-parameter optimizer (HBL)."""
        if self.clamp_min is None:
            return
        params = list(self.weights.values())
        if self.clamp_logits:
            params += list(self.logits.values())
        for p in params:
            p.clamp_(min=self.clamp_min)

    def to_dict(self, meta: Optional[dict] = None) -> dict:
        """Plain data of the file format (see the module docstring)."""
        with torch.no_grad():
            return dict(
                format=FORMAT,
                weights={k: float(v)
                         for k, v in self.weights.items()},
                logits={
                    k: [float(x) for x in v.flatten()]
                    for k, v in self.logits.items()
                },
                layer_weights={
                    k: [float(x) for x in self.softmax(k)]
                    for k in self.logits
                },
                meta=dict(meta or {}))

    def dump(self, path: str, meta: Optional[dict] = None) -> None:
        """Write YAML (``.yaml`` / ``.yml``) or JSON atomically; refuses
        non-finite values."""
        data = self.to_dict(meta)
        values = list(data['weights'].values()) + [
            x for v in data['logits'].values() for x in v
        ]
        if not all(torch.isfinite(torch.tensor(values))):
            raise FloatingPointError(
                f'refusing to write non-finite loss weights to {path}: '
                f'{data["weights"]}')
        dump_data_file(data, path, 'loss-weight')


def load_loss_weights(path: str) -> dict:
    """Read and validate a loss-weight file: ``weights``, ``logits``,
    ``layer_weights`` and ``meta``.

    Raises:
        ValueError: naming ``path`` and the key: a weight that is not a
            finite number >= 0, a ``logits`` / ``layer_weights`` entry that
            is not a non-empty list of finite numbers, or a ``logits`` /
            ``layer_weights`` / ``meta`` that is not a mapping.
    """
    data = load_data_file(
        path, 'loss-weight', ' (written by a loss search, e.g. '
        'configs/hbl/search_loss_hbl_toy.py -> '
        'work_dirs/<name>/loss_weights/latest.yaml)')
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise ValueError(f'{path} is not a loss-weight file: expected a '
                         f'mapping with format: {FORMAT}')
    weights = data.get('weights')
    if not isinstance(weights, dict):
        raise ValueError(f"{path}: 'weights' must map loss names to numbers,"
                         f' got {weights!r}')
    for key, value in weights.items():
        if not is_finite_number(value) or value < 0:
            raise ValueError(f'{path}: weights[{key!r}]: loss weights must '
                             f'be finite numbers >= 0, got {value!r}')
    out = dict(weights={k: float(v) for k, v in weights.items()})
    for name in ('logits', 'layer_weights', 'meta'):
        value = data.get(name)
        if value is not None and not isinstance(value, dict):
            raise ValueError(f'{path}: {name!r} must be a mapping, got '
                             f'{value!r}')
        out[name] = value or {}
    for name in ('logits', 'layer_weights'):
        for key, values in out[name].items():
            if not (isinstance(values, list) and values
                    and all(map(is_finite_number, values))):
                raise ValueError(f'{path}: {name}[{key!r}] must be a '
                                 'non-empty list of finite numbers, got '
                                 f'{values!r}')
        out[name] = {k: [float(v) for v in vs]
                     for k, vs in out[name].items()}
    return out


def bind_loss_hyper(losses: Iterable[nn.Module],
                    hyper: LossHyperParams,
                    names: Optional[Sequence[str]] = None) -> list:
    """Register beta for ``names`` (default: every ``loss_name``) and gamma for
    losses with ``hyper_logit_groups()``; return the weighted names.
    """
    losses = list(losses)
    known = [getattr(m, 'loss_name', None) for m in losses]
    if names is None:
        names = [n for n in known if n is not None]
    for name in names:
        hyper.register_weight(name)
    for loss in losses:
        if hasattr(loss, 'hyper_logit_groups') and getattr(
                loss, 'loss_name', None) in names:
            for group, size in loss.hyper_logit_groups().items():
                hyper.register_logits(f'{loss.loss_name}/{group}', size)
            loss.bind_hyper(hyper)
    return list(names)
