"""Unrolled HQS with hyper-guidance: K stages of data step, proxy, denoiser.

Stage ``t`` (own weights, ``x_0 = y``), as the official ``meta_stack_divide``::

    x~_t    = D_t(y, x_t; degradation)        # data step, fixed rho_t
    s_t     = H_t(x~_t)                       # proxy: guidance map
    x_{t+1} = A_t(x~_t, s_t)                  # base denoiser
"""
import copy
from typing import List, NamedTuple, Optional, Sequence

import torch.nn as nn
from torch import Tensor

from mmfusenas.registry import MODELS
from .hqs_data_step import dpir_rho_schedule

__all__ = ['HQSOutputs', 'UnrolledHQSNet', 'GUIDANCE_MODES', 'resolve_rhos']

#: the guidance modes of :class:`UnrolledHQSNet`
GUIDANCE_MODES = ('proxy', 'none', 'manual')


class HQSOutputs(NamedTuple):
    """All stage outputs of :class:`UnrolledHQSNet`.

    Attributes:
        pred (Tensor): the final estimate ``x_K``.
        x_tilde (list[Tensor]): the data-step outputs.
        guidance (list[Tensor | None]): the guidance maps (None where absent).
        x (list[Tensor]): the stage estimates.
    """
    pred: Tensor
    x_tilde: List[Tensor]
    guidance: List[Optional[Tensor]]
    x: List[Tensor]


def resolve_rhos(rho: dict | Sequence[float], num_stages: int) -> List[float]:
    """Per-stage ``rho_t`` from ``num_stages`` values or a
    :func:`dpir_rho_schedule` kwargs dict.
    """
    if isinstance(rho, dict):
        return dpir_rho_schedule(num_stages=num_stages, **rho)
    rho = [float(r) for r in rho]
    if len(rho) != num_stages:
        raise ValueError(f'rho lists {len(rho)} values for {num_stages} '
                         'stages')
    return rho


@MODELS.register_module()
class UnrolledHQSNet(nn.Module):
    """K unrolled HQS stages with per-stage proxies and denoisers.

    ``forward(y, guidance=None, return_all=False, **degradation)`` returns
    ``x_K`` or :class:`HQSOutputs`; ``degradation`` is what the data step needs
    (e.g. ``kernel=(N, kh, kw)``), ``guidance`` a manual map (``'manual'``).

    Args:
        num_stages (int): K. Defaults to 5.
        rho (dict | Sequence[float]): see :func:`resolve_rhos`. Defaults to
            ``dict(noise_sigma=0.01)``.
        data_step (dict): data-step config; ``rho`` is set per stage.
            Defaults to ``dict(type='HQSDeconv')``.
        proxy (dict): proxy config. Defaults to
            ``dict(type='NoiseLevelProxy')``.
        denoiser (dict): denoiser config. Defaults to
            ``dict(type='DilatedDenoiser', dilations='ffd')``.
        guidance (str): one of :data:`GUIDANCE_MODES`. Defaults to 'proxy'.
        manual_stages (Sequence[int] | str): stages fed the manual map, or
            ``'all'``. Defaults to ``(0,)``.
        proxy_input (str): ``'x_tilde'`` (official) or ``'y'`` (the proxy reads
            the observation and its map also goes to the data step). Defaults
            to 'x_tilde'.
    """

    def __init__(self,
                 num_stages: int = 5,
                 rho: dict | Sequence[float] = dict(noise_sigma=0.01),
                 data_step: dict = dict(type='HQSDeconv'),
                 proxy: dict = dict(type='NoiseLevelProxy'),
                 denoiser: dict = dict(
                     type='DilatedDenoiser', dilations='ffd'),
                 guidance: str = 'proxy',
                 manual_stages: Sequence[int] | str = (0, ),
                 proxy_input: str = 'x_tilde') -> None:
        super().__init__()
        if proxy_input not in ('x_tilde', 'y'):
            raise ValueError(f"UnrolledHQSNet: proxy_input must be 'x_tilde' "
                             f"or 'y', got {proxy_input!r}")
        self.proxy_input = proxy_input
        if num_stages < 1:
            raise ValueError(f'UnrolledHQSNet: num_stages must be >= 1, got '
                             f'{num_stages}')
        if guidance not in GUIDANCE_MODES:
            raise ValueError(f'UnrolledHQSNet: guidance must be one of '
                             f'{GUIDANCE_MODES}, got {guidance!r}')
        self.num_stages = num_stages
        self.guidance_mode = guidance
        if guidance == 'manual':
            if manual_stages == 'all':
                manual_stages = tuple(range(num_stages))
            manual_stages = tuple(int(s) for s in manual_stages)
            bad = [s for s in manual_stages if not 0 <= s < num_stages]
            if bad or not manual_stages:
                raise ValueError(f'UnrolledHQSNet: manual_stages must be '
                                 f'non-empty stage indices in [0, '
                                 f'{num_stages}), got {manual_stages}')
        else:
            manual_stages = ()
        self.manual_stages = manual_stages
        self.rhos = resolve_rhos(rho, num_stages)
        self.data_steps = nn.ModuleList()
        self.proxies = nn.ModuleDict()
        self.denoisers = nn.ModuleList()
        for t, r in enumerate(self.rhos):
            step_cfg = copy.deepcopy(data_step)
            step_cfg['rho'] = r
            self.data_steps.append(MODELS.build(step_cfg))
            if guidance != 'none' and t not in manual_stages:
                self.proxies[str(t)] = MODELS.build(copy.deepcopy(proxy))
            den_cfg = copy.deepcopy(denoiser)
            if guidance == 'none':
                den_cfg['guidance_channels'] = 0
            self.denoisers.append(MODELS.build(den_cfg))

    def proxy_parameters(self, stages: Optional[Sequence[int]] = None
                         ) -> List[nn.Parameter]:
        """Parameters of the proxies ``H_θ`` (of ``stages``, default
        all)."""
        keys = self.proxies.keys() if stages is None else \
            [str(s) for s in stages if str(s) in self.proxies]
        return [p for k in keys for p in self.proxies[k].parameters()]

    def _guidance(self, t: int, source: Tensor,
                  manual: Optional[Tensor]) -> Optional[Tensor]:
        if t in self.manual_stages:
            return manual.to(source.dtype).expand(source.shape[0], -1,
                                                  *source.shape[2:])
        if str(t) in self.proxies:
            return self.proxies[str(t)](source)
        return None

    def forward(self,
                y: Tensor,
                guidance: Optional[Tensor] = None,
                return_all: bool = False,
                **degradation) -> Tensor | HQSOutputs:
        if self.manual_stages and guidance is None:
            raise ValueError(
                'UnrolledHQSNet: guidance mode "manual" needs the guidance '
                'map (e.g. the true noise-level map) as guidance=')
        x = y
        out = HQSOutputs(None, [], [], [])
        for t in range(self.num_stages):
            if self.proxy_input == 'y':
                g = self._guidance(t, y, guidance)
                x_tilde = self.data_steps[t](y, x=x, guidance=g,
                                             **degradation)
            else:
                x_tilde = self.data_steps[t](y, x=x, **degradation)
                g = self._guidance(t, x_tilde, guidance)
            x = self.denoisers[t](x_tilde, g)
            out.x_tilde.append(x_tilde)
            out.guidance.append(g)
            out.x.append(x)
        if not return_all:
            return x
        return out._replace(pred=x)
