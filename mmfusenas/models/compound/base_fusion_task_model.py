"""Fusion network + downstream task model trained together (TIM Sec. 3.1)."""
from typing import Dict, List, Sequence, Union

import torch

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.models.fusion.fusion_outputs import (FusionOutputs,
                                                    check_loss_outputs,
                                                    fusion_loss_values,
                                                    main_image,
                                                    run_fusion_outputs)
from mmfusenas.utils.colorspace import ycbcr_to_rgb
from mmfusenas.utils.module_checkpoint import FUSION_AUTO_PREFIXES
from .base_pre_task_model import BasePreTaskModel

FUSED_COLORS = ('rgb', 'gray')
#: Prefix of the fusion losses' log keys.
FUSION_PREFIX = 'fusion.'


class BaseFusionTaskModel(BasePreTaskModel):
    """N_F feeding a real MMDetection / MMSegmentation model.

    The fusion network ``fusion_net`` maps the ``(N, M, H, W)`` source
    stack of :class:`~mmfusenas.models.FusionDataPreprocessor` to the fused
    luminance ``(N, 1, H, W)`` in ``[0, 1]``. The task model sees the fused
    image as a 3-channel picture:

    1. ``fused_color='rgb'``: fused Y + the colour source's chroma (the
       ``chroma`` the preprocessor stores on every sample; padded with the
       neutral 0.5) → RGB by the exact BT.601 inverse
       (:func:`~mmfusenas.utils.colorspace.ycbcr_to_rgb`), clamped to
       ``[0, 1]``; samples without a colour source get the grey image.
       ``'gray'``: the fused Y replicated to 3 channels;
    2. times 255, then ``(x - mean) / std`` per channel (``mean`` / ``std``
       in **[0, 255] units**, like mmdet's ``DetDataPreprocessor`` and
       mmseg's ``SegDataPreProcessor``; channel order R, G, B).

    Training loss (TIM Alg. 1 line 15)::

        loss = ℓ_T(task(fused)) + η · Σ_k ℓ_F,k(fused, sources)

    Every fusion loss ``ℓ_F,k`` (with its own ``loss_weight`` and
    ``loss_name``) reads the fused image, or the output of ``fusion_net`` it
    names with ``output`` (TIM's branch losses on the two parallel outputs
    of N_T, :mod:`mmfusenas.models.fusion.fusion_outputs`); it is logged,
    already multiplied by η, as
    ``fusion.<loss_name>``; η itself as ``fusion.eta`` (not summed). The
    task model's losses keep their names (``loss_cls``, ``loss_bbox``,
    ``decode.loss_ce``, ...). MMEngine sums every key containing ``'loss'``.

    Training stages are switched by hooks (``mmfusenas.engine.hooks``) or by
    hand through :attr:`task_enabled` (False: ℓ_F only, the task model is
    not run — the fusion warm-up), :attr:`fusion_loss_weight` (η) and
    :meth:`set_fusion_frozen` (N_F without gradients, in eval mode; ℓ_F is
    still computed for the log but carries no gradient).

    ``predict`` runs the task model's own ``predict`` and attaches to the
    same data samples ``pred_fused`` (``(1, h, w)``, cropped to
    ``img_shape``) and, for samples with a colour source,
    ``pred_fused_rgb``; ``sources`` is already there (from the
    preprocessor). So one evaluator list with a task metric (mmdet
    ``CocoMetric``, mmseg ``IoUMetric``) and ``FusionMetric`` reports both.

    The generic machinery (task model building, loss assembly, freezing,
    NaN checks) is :class:`BasePreTaskModel`'s; :attr:`fusion_loss_weight`
    and :meth:`set_fusion_frozen` are its ``pre_loss_weight`` /
    ``set_pre_frozen`` under TIM's names. The task side comes from a mixin
    (``task_mixins``): :class:`FusionDetector`, :class:`FusionSegmentor`.

    Args:
        fusion_net (dict | nn.Module): N_F; any fusion network config
            (``SimpleFusionNet``, ``TIMFusionNet``, ``GenotypeNet``, or a
            supernet with ``DiffMixedOp`` choice points when the model is
            the ``architecture`` of a ``BilevelSearchAlgorithm``).
        task_model (dict | nn.Module): the detector / segmentor config.
            ``_scope_`` defaults to :attr:`task_scope`. It must not define a
            ``data_preprocessor``: this model normalises the fused image
            itself (``mean`` / ``std``).
        fusion_losses (Sequence[dict | nn.Module]): ℓ_F terms (see
            ``mmfusenas.models.losses``), unique ``loss_name`` each. May be
            empty only if the task loss is always on (no warm-up) and η is
            unused.
        fusion_loss_weight (float): η ≥ 0. Defaults to 1.0.
        fused_color (str): ``'rgb'`` or ``'gray'`` (see above). Defaults to
            'rgb'.
        mean (Sequence[float]): per-channel mean of the task input, [0, 255]
            units. Defaults to ImageNet's.
        std (Sequence[float]): per-channel std, [0, 255] units. Defaults to
            ImageNet's.
        fusion_init (str | dict, optional): initialise N_F from a
            checkpoint in :meth:`init_weights` (i.e. when the runner starts
            training, before ``load_from`` / ``--resume``, which override
            it): a path, or ``dict(checkpoint=path, prefix=None)``. The
            prefix is auto-detected among ``'fusion_net.'`` (ImageFusor,
            PMI ``pmi_init.pth``, compound models),
            ``'architecture.fusion_net.'`` (search runs) and ``''`` (bare
            state dict); the keys must match N_F exactly. Defaults to None.
        freeze_fusion (bool): start with N_F frozen (see
            :meth:`set_fusion_frozen`). Defaults to False.
        check_finite (bool): raise ``FloatingPointError`` naming the loss
            and the samples when a loss is NaN / Inf. Defaults to True.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor(pad_size_divisor=32)``.
        init_cfg (dict, optional): weight initialisation config.
    """

    pre_name = 'fusion'
    pre_weight_key = 'eta'
    pre_attr = 'fusion_net'
    pre_losses_attr = 'fusion_losses'
    pre_prefix = 'fusion.'
    pre_weight_arg = 'fusion_loss_weight'
    pre_weight_name = 'fusion_loss_weight (eta)'
    pre_init_name = 'fusion_init'
    pre_freeze_arg = 'freeze_fusion'
    pre_auto_prefixes = FUSION_AUTO_PREFIXES
    default_data_preprocessor = dict(
        type='FusionDataPreprocessor', pad_size_divisor=32)

    def __init__(self, *args, fused_color: str = 'rgb', **kwargs) -> None:
        if fused_color not in FUSED_COLORS:
            raise ValueError(f'{type(self).__name__}: fused_color must be '
                             f'one of {FUSED_COLORS}, got {fused_color!r}')
        self.fused_color = fused_color
        super().__init__(*args, **kwargs)
        #: whether some fusion loss reads a branch output (``return_all``)
        self._needs_all = check_loss_outputs(self.fusion_net,
                                             self.fusion_losses,
                                             type(self).__name__)

    # ------------------------------------------------------------------
    # the generic accessors under fusion names
    # ------------------------------------------------------------------
    @property
    def fusion_loss_weight(self) -> float:
        """η, the weight of the fusion losses in the joint loss
        (:attr:`pre_loss_weight`)."""
        return self.pre_loss_weight

    @fusion_loss_weight.setter
    def fusion_loss_weight(self, value: float) -> None:
        self.pre_loss_weight = value

    @property
    def fusion_frozen(self) -> bool:
        """Whether the fusion network N_F is frozen (:attr:`pre_frozen`)."""
        return self.pre_frozen

    def set_fusion_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) the fusion network N_F; see
        :meth:`set_pre_frozen`."""
        self.set_pre_frozen(frozen)

    # ------------------------------------------------------------------
    # fused image -> task input
    # ------------------------------------------------------------------
    def fuse(self, inputs: torch.Tensor) -> torch.Tensor:
        """N_F on a batch (no gradient while N_F is frozen)."""
        return main_image(self.run_pre(inputs))

    def _run_pre(
            self,
            inputs: torch.Tensor) -> Union[torch.Tensor, FusionOutputs]:
        """The fused batch, or (when a fusion loss reads a branch output)
        the dict of named outputs with the fused batch under ``'fused'``."""
        outputs = run_fusion_outputs(self.fusion_net, inputs,
                                     self._needs_all,
                                     f'{type(self).__name__}.fusion_net')
        return outputs if self._needs_all else outputs['fused']

    def _task_image(self, fused: torch.Tensor,
                    data_samples: Sequence) -> torch.Tensor:
        """The fused batch as an ``(N, 3, H, W)`` RGB picture in [0, 1].

        Args:
            fused (Tensor | dict): ``(N, 1, H, W)`` fused luminance (padded
                batch), or the named outputs of :meth:`_run_pre`.
            data_samples (Sequence): the batch's samples (``chroma`` of a
                colour source, ``(2, h, w)``, when there is one).
        """
        fused = main_image(fused)
        rgb = fused.clamp(0, 1).expand(-1, 3, -1, -1)
        if self.fused_color == 'rgb':
            has_chroma = [('chroma' in s) for s in data_samples]
            if any(has_chroma):
                chroma = fused.new_full(
                    (fused.shape[0], 2) + tuple(fused.shape[-2:]), 0.5)
                for i, sample in enumerate(data_samples):
                    if has_chroma[i]:
                        h, w = sample.chroma.shape[-2:]
                        chroma[i, :, :h, :w] = sample.chroma
                colour = ycbcr_to_rgb(torch.cat([fused, chroma], 1))
                keep = fused.new_tensor(has_chroma).view(-1, 1, 1, 1).bool()
                rgb = torch.where(keep, colour.clamp(0, 1), rgb)
        return rgb

    def _pre_losses(self, fused: Union[torch.Tensor, FusionOutputs],
                    inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        outputs = fused if isinstance(fused, dict) else dict(fused=fused)
        return fusion_loss_values(self.fusion_losses, outputs, inputs)

    def _attach_pre(self, samples: List,
                    fused: Union[torch.Tensor, FusionOutputs]) -> None:
        fused = main_image(fused).clamp(0, 1)
        for i, sample in enumerate(samples):
            pred = crop_to_shape(fused[i], sample.get('img_shape'))
            sample.pred_fused = pred
            if 'chroma' in sample:
                rgb = ycbcr_to_rgb(torch.cat([pred, sample.chroma], dim=0))
                sample.pred_fused_rgb = rgb.clamp(0, 1)
