"""The RUAS low-light enhancement network (RUAS_s, RUAS, RUAS_A)."""
from typing import List, NamedTuple, Optional, Union

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS

#: gating modes of :class:`RUASNet`
GATES = ('batch', 'sample')


class RUASOutputs(NamedTuple):
    """Everything a :class:`RUASNet` forward pass computes.

    Args:
        u_list (list[Tensor]): the enhanced image of every stage, then the
            denoised image when the noise removal ran.
        t_list (list[Tensor]): the illumination of every stage.
        noise_level (Tensor, optional): the noise estimate; None without an
            estimator.
    """
    u_list: List[torch.Tensor]
    t_list: List[torch.Tensor]
    noise_level: Optional[torch.Tensor]

    @property
    def pred(self) -> torch.Tensor:
        """The prediction, ``u_list[-1]``."""
        return self.u_list[-1]


def _build(cfg: Optional[Union[dict, nn.Module]]) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


@MODELS.register_module()
class RUASNet(nn.Module):
    """Scene module + optional noise removal + optional noise estimation.

    Official ``Network``; RUAS_s, RUAS and RUAS_A are configs of this class::

        u_list, t_list = scene(y)
        if denoiser and (no estimator or estimator(u_K) >= gate_threshold):
            u_list.append(denoiser(u_K)[0])
        prediction = u_list[-1]

    Under ``torch.compile`` / export the ``'batch'`` gate is a ``torch.cond``
    (see ``docs/user_guides/deployment.md``).

    Args:
        scene (dict | nn.Module): :class:`RUASIlluminationNet`.
        denoiser (dict | nn.Module, optional): :class:`RUASDenoiseNet`.
        estimator (dict | nn.Module, optional): :class:`RUASNoiseEstimator`;
            needs ``denoiser``.
        gate_threshold (float): noise level from which the removal runs.
            Defaults to 0.035 (official).
        gate (str): ``'batch'`` (official, one decision per batch) or
            ``'sample'`` (one per image). Defaults to 'batch'.
    """

    def __init__(self,
                 scene: Union[dict, nn.Module],
                 denoiser: Optional[Union[dict, nn.Module]] = None,
                 estimator: Optional[Union[dict, nn.Module]] = None,
                 gate_threshold: float = 0.035,
                 gate: str = 'batch') -> None:
        super().__init__()
        if estimator is not None and denoiser is None:
            raise ValueError('RUASNet: an estimator gates the denoiser, so '
                             'it needs one (denoiser=None given)')
        if gate not in GATES:
            raise ValueError(f'gate must be one of {GATES}, got {gate!r}')
        self.scene = _build(scene)
        self.denoiser = _build(denoiser)
        self.estimator = _build(estimator)
        self.gate_threshold = gate_threshold
        self.gate = gate

    def forward(self,
                y: torch.Tensor,
                return_all: bool = False) -> Union[torch.Tensor, RUASOutputs]:
        """The ``(N, 3, H, W)`` prediction, or :class:`RUASOutputs` with
        ``return_all``."""
        u_list, t_list = self.scene(y)
        u = u_list[-1]
        level = None
        if self.denoiser is not None:
            if self.estimator is None:
                u_list.append(self.denoiser(u)[0])
            elif self.gate == 'batch':
                level = self.estimator(u)
                if torch.compiler.is_compiling():
                    # export / torch.compile: the gate as a graph branch
                    # (no data-dependent Python ``if``); same prediction
                    u_list.append(
                        torch.cond(level >= self.gate_threshold,
                                   self._denoised, self._kept, (u, )))
                elif level.item() >= self.gate_threshold:
                    u_list.append(self.denoiser(u)[0])
            else:
                level = self.estimator(u, per_sample=True)
                noisy = level >= self.gate_threshold
                if torch.compiler.is_compiling() or bool(noisy.any()):
                    denoised = self.denoiser(u)[0]
                    u_list.append(
                        torch.where(noisy.view(-1, 1, 1, 1), denoised, u))
        if return_all:
            return RUASOutputs(u_list, t_list, level)
        return u_list[-1]

    def _denoised(self, u: torch.Tensor) -> torch.Tensor:
        return self.denoiser(u)[0]

    @staticmethod
    def _kept(u: torch.Tensor) -> torch.Tensor:
        return u.clone()

    def extra_repr(self) -> str:
        if self.estimator is None:
            return ''
        return f'gate_threshold={self.gate_threshold}, gate={self.gate!r}'
