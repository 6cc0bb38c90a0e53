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
        u_list (list[Tensor]): the enhanced image of every scene stage, then
            the denoised image when the noise removal ran (official
            ``u_list``).
        t_list (list[Tensor]): the illumination of every stage.
        noise_level (Tensor, optional): the noise estimate (``()`` with the
            ``'batch'`` gate, ``(N,)`` with ``'sample'``); None without an
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

    Official name: ``Network`` (``model_enhance/model.py``, TPAMI). The
    paper's three enhancement versions (Sec. 5.1, Table 5) are configs of
    this class (``configs/_base_/models/ruas_{s,,a}.py``):

    * RUAS_s: ``scene`` only, the prediction is ``u_K``;
    * RUAS: ``scene`` + ``denoiser``, always denoised (the CVPR network);
    * RUAS_A: ``scene`` + ``denoiser`` + ``estimator`` (the official TPAMI
      weights): the noise removal runs only when the estimated noise level
      of ``u_K`` is ``>= gate_threshold``.

    ::

        u_list, t_list = scene(y)
        if denoiser and (no estimator or estimator(u_K) >= gate_threshold):
            u_list.append(denoiser(u_K)[0])
        prediction = u_list[-1]

    Under ``torch.compile`` / ``torch.export`` / ONNX export the
    ``'batch'`` gate is a ``torch.cond`` graph branch (the exported model
    still skips the denoiser on clean images; ``u_list`` then always has a
    last entry, ``u_K`` itself when skipped) and the ``'sample'`` gate
    always runs the denoiser and selects per image; the prediction is the
    same. See ``docs/user_guides/deployment.md``.

    Paper vs code: the paper skips the removal when ``||theta||_1 <=
    epsilon``; the code denoises when the mean ``|theta| >= 0.035``
    (equality denoises), which is what is done here.

    Args:
        scene (dict | nn.Module): the scene module
            (:class:`RUASIlluminationNet`).
        denoiser (dict | nn.Module, optional): the noise removal network
            (:class:`RUASDenoiseNet`). Defaults to None.
        estimator (dict | nn.Module, optional): the noise estimation network
            (:class:`RUASNoiseEstimator`); needs ``denoiser``. Defaults to
            None.
        gate_threshold (float): noise level from which the removal runs.
            Defaults to 0.035 (official).
        gate (str): ``'batch'`` (official): one decision for the whole
            batch from the batch-level estimate (which, for ``N > 1``, is
            ``N`` times the mean, see :class:`RUASNoiseEstimator`), so a
            prediction can depend on the other images of its batch;
            ``'sample'``: one decision per image from its own mean level
            (identical to ``'batch'`` at batch size 1). Defaults to 'batch'.
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
        """Enhance a batch.

        Args:
            y (Tensor): ``(N, 3, H, W)`` low-light images in ``[0, 1]``.
            return_all (bool): return :class:`RUASOutputs` (for losses and
                analysis) instead of the prediction. Defaults to False.

        Returns:
            Tensor | RUASOutputs: the ``(N, 3, H, W)`` prediction
            (``u_list[-1]``, not clamped after the denoiser) or all outputs.
        """
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
