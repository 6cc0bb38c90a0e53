"""Low-light scene module + downstream task model (RUAS, TPAMI 2022 Sec. 5)."""
from typing import Dict, List, Sequence

import torch

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.models.enhancers.loss_fields import (LOSS_FIELDS, Fields,
                                                    call_field_loss,
                                                    check_loss_fields,
                                                    network_fields)
from mmfusenas.utils.module_checkpoint import SCENE_AUTO_PREFIXES
from .base_pre_task_model import BasePreTaskModel

#: Prefix of the scene losses' log keys.
SCENE_PREFIX = 'scene.'
#: fields a scene loss may read (no ground-truth image in task data)
SCENE_LOSS_FIELDS = tuple(f for f in LOSS_FIELDS if f != 'gt')


class BaseSceneTaskModel(BasePreTaskModel):
    """A RUAS scene module feeding a real MMDetection / MMSegmentation model.

    RUAS (TPAMI 2022, Sec. 5) puts its scene module (the unrolled
    illumination estimation, optionally with the noise removal: any
    :class:`~mmfusenas.models.scene.RUASNet`) in front of a detector or a
    segmenter and trains them together. The batch is the low-light RGB
    image in ``[0, 1]`` (``(N, 3, H, W)``; the default data preprocessors
    divide by 255 and pad); the scene module's prediction ``u`` (clamped to
    ``[0, 1]``) is normalised, ``(255 u - mean) / std``, and given to the
    task model. The official detector (``model_detection/``) feeds
    ``255 u - (123, 117, 104)``: ``mean=(123, 117, 104)``, ``std=(1, 1,
    1)``.

    Training loss (RUAS Eq. 5, "end-to-end training Ψ on ℓ_t + λℓ_s")::

        loss = ℓ_t(task(u)) + λ · Σ_k ℓ_s,k

    Every scene loss (a RUAS loss of ``mmfusenas.models.losses``, e.g.
    ``RUASSceneLoss`` reading ``inputs = ('illumination', 'low')``; the
    fields are those of :class:`~mmfusenas.models.ImageEnhancer` except
    ``gt``: ``pred``, ``target`` = ``low`` = the input batch,
    ``illumination``, ``scene_output``, ``denoised``) is logged, already
    multiplied by λ, as ``scene.<loss_name>``; λ as ``scene.lambda`` (not
    summed). The two training strategies of Table 6 are set by
    :class:`~mmfusenas.engine.hooks.RUASTrainingStrategyHook`
    (end-to-end: λ; hierarchical: ℓ_s alone with the task model off, then
    ℓ_t with the scene module frozen) or by hand through
    :attr:`task_enabled`, :attr:`scene_loss_weight` and
    :meth:`set_scene_frozen`.

    ``predict`` runs the task model's ``predict`` and attaches the enhanced
    image ``pred_img`` (``(3, h, w)`` in ``[0, 1]``, cropped to
    ``img_shape``) to the same samples.

    Args:
        scene_net (dict | nn.Module): the scene module (``RUASNet``; a
            ``GenotypeNet`` of a searched one; a supernet inside a
            ``CooperativeSearchAlgorithm``), ``(N, 3, H, W) -> (N, 3, H,
            W)``.
        task_model (dict | nn.Module): the detector / segmentor config
            (``_scope_`` defaults to mmdet / mmseg; no
            ``data_preprocessor``).
        scene_losses (Sequence[dict | nn.Module]): ℓ_s terms, unique
            ``loss_name`` each. Defaults to ().
        scene_loss_weight (float): λ ≥ 0. Defaults to 1.0.
        mean (Sequence[float]): task input mean, [0, 255] units, R, G, B.
            Defaults to ImageNet's.
        std (Sequence[float]): task input std, [0, 255] units. Defaults to
            ImageNet's.
        scene_init (str | dict, optional): initialise the scene module from
            a checkpoint: a path or ``dict(checkpoint=path, prefix=None)``;
            prefixes tried: ``scene_net.``, ``architecture.scene_net.``,
            ``network.`` (an ImageEnhancer, e.g. the official RUAS weights
            converted by ``tools/model_converters/
            ruas_official_to_mmfusenas.py``, with ``--scene-only`` for a
            scene-only network), ``architecture.network.``, ``''``. The keys
            must match exactly. Defaults to None.
        freeze_scene (bool): start with the scene module frozen. Defaults
            to False.
        check_finite (bool): NaN / Inf check of every loss. Defaults to
            True.
        data_preprocessor (dict | nn.Module, optional): defaults to the
            subclass's (mmdet / mmseg preprocessor dividing by 255).
        init_cfg (dict, optional): weight initialisation config.
    """

    pre_name = 'scene'
    pre_weight_key = 'lambda'
    pre_attr = 'scene_net'
    pre_losses_attr = 'scene_losses'
    pre_prefix = 'scene.'
    pre_weight_arg = 'scene_loss_weight'
    pre_weight_name = 'scene_loss_weight (lambda)'
    pre_init_name = 'scene_init'
    pre_freeze_arg = 'freeze_scene'
    pre_auto_prefixes = SCENE_AUTO_PREFIXES

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._needs_all = check_loss_fields(self.scene_losses,
                                            SCENE_LOSS_FIELDS)

    def enhance(self, inputs: torch.Tensor) -> torch.Tensor:
        """The enhanced batch ``u`` in ``[0, 1]``."""
        return self.run_pre(inputs)['pred'].clamp(0, 1)

    # ------------------------------------------------------------------
    # the generic accessors under scene names
    # ------------------------------------------------------------------
    @property
    def scene_loss_weight(self) -> float:
        """λ, the weight of the scene losses in the joint loss
        (:attr:`pre_loss_weight`)."""
        return self.pre_loss_weight

    @scene_loss_weight.setter
    def scene_loss_weight(self, value: float) -> None:
        self.pre_loss_weight = value

    @property
    def scene_frozen(self) -> bool:
        """Whether the scene module is frozen (:attr:`pre_frozen`)."""
        return self.pre_frozen

    def set_scene_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) the scene module; see
        :meth:`set_pre_frozen`."""
        self.set_pre_frozen(frozen)

    # ------------------------------------------------------------------
    # the pre-module's side
    # ------------------------------------------------------------------
    def _run_pre(self, inputs: torch.Tensor) -> Fields:
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError(
                f'{type(self).__name__}: the scene module takes RGB batches '
                f'(N, 3, H, W) in [0, 1], got {tuple(inputs.shape)}; load '
                "the images with color_type='color' (3 channels)")
        fields = network_fields(self.scene_net, inputs, self._needs_all)
        if fields['pred'].shape != inputs.shape:
            raise ValueError(
                f'{type(self).__name__}: scene_net must map (N, 3, H, W) to '
                f'the same shape, got {tuple(inputs.shape)} -> '
                f"{tuple(fields['pred'].shape)}")
        fields.update(low=inputs, target=inputs)
        return fields

    def _task_image(self, fields: Fields,
                    data_samples: Sequence) -> torch.Tensor:
        return fields['pred'].clamp(0, 1)

    def _pre_losses(self, fields: Fields,
                    inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {
            loss_fn.loss_name: call_field_loss(loss_fn, fields)
            for loss_fn in self.scene_losses
        }

    def _attach_pre(self, samples: List, fields: Fields) -> None:
        pred = fields['pred'].clamp(0, 1)
        for i, sample in enumerate(samples):
            sample.pred_img = crop_to_shape(pred[i], sample.get('img_shape'))
