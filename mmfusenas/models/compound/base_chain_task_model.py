"""A chain of pre-modules feeding a real task model (e.g. enhance the
night-time VIS image, fuse it with IR, detect)."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.utils.colorspace import rgb_to_ycbcr, ycbcr_to_rgb
from .base_pre_task_model import BasePreTaskModel
from .pre_module_chain import PreModuleChain


class BaseChainTaskModel(BasePreTaskModel):
    """A :class:`PreModuleChain` feeding an MMDetection / MMSegmentation
    model.

    The chain (config ``chain_net``) turns the batch's named sources into
    named images; ``task_input`` names the one the task model sees:

    * a 1-channel image (a fused luminance) gets the chroma of the RGB image
      ``color_from`` (BT.601 inverse, clamped), or is replicated to grey
      when ``color_from`` is None — TIM's fused-colour convention;
    * a 3-channel image is used as it is (clamped to ``[0, 1]``);

    then normalised like every compound model (``(255 · rgb - mean) /
    std``). The training loss is::

        loss = ℓ_task + w · Σ_stages w_s · Σ_k ℓ_s,k

    with every stage's losses logged under the stage's name
    (``scene.loss_...``, ``fusion.loss_...``, each already weighted, and the
    stage weight as ``scene.lambda`` / ``fusion.eta``) and ``w`` the
    chain-wide ``chain_loss_weight`` (default 1). Stage losses are given in
    the stages (``chain_losses`` must stay empty). Stages are frozen and
    their losses switched by :class:`~mmfusenas.engine.hooks.StagingHook`
    (stage-wise warm-up, then joint) or by hand
    (:meth:`set_stage_frozen`, ``chain_net.active_losses``,
    :attr:`task_enabled`); ``freeze_chain`` / :meth:`set_chain_frozen`
    freeze the whole chain.

    ``predict`` runs the task model's ``predict`` and attaches every image a
    stage wrote as ``pred_<name>`` (cropped to ``img_shape``, in
    ``[0, 1]``); a 1-channel ``task_input`` is also ``pred_fused`` (and
    ``pred_fused_rgb`` with ``color_from``), so ``FusionMetric`` and
    ``FusedImageSaveHook`` work unchanged (the metric compares it with the
    raw sources' luminance, ``sources``).

    Args:
        chain_net (dict | PreModuleChain): the chain.
        task_input (str): the name the task model reads. Defaults to
            'fused'.
        color_from (str, optional): RGB image whose chroma colours a
            1-channel ``task_input``. Defaults to None (grey).
        chain_loss_weight (float): ``w >= 0``. Defaults to 1.0.
        chain_init (str | dict, optional): a checkpoint of the whole chain
            (e.g. of another chain model: prefix ``chain_net.``); per-stage
            checkpoints go in the stages' ``init``. Defaults to None.
        freeze_chain (bool): start with the whole chain frozen. Defaults to
            False.
        mean, std, check_finite, init_cfg: as :class:`BasePreTaskModel`.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor(pad_size_divisor=32, keep_rgb=['vi'])``.
    """

    pre_name = 'chain'
    pre_weight_key = 'weight'
    pre_attr = 'chain_net'
    pre_losses_attr = 'chain_losses'
    pre_prefix = 'chain.'
    pre_weight_arg = 'chain_loss_weight'
    pre_weight_name = 'chain_loss_weight (weight)'
    pre_init_name = 'chain_init'
    pre_freeze_arg = 'freeze_chain'
    pre_auto_prefixes = ('chain_net.', 'architecture.chain_net.', '')
    default_data_preprocessor = dict(
        type='FusionDataPreprocessor', pad_size_divisor=32, keep_rgb=['vi'])

    def __init__(self,
                 *args,
                 task_input: str = 'fused',
                 color_from: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        owner = type(self).__name__
        if not isinstance(self.chain_net, PreModuleChain):
            raise TypeError(f'{owner}: chain_net must be a PreModuleChain, '
                            f'got {type(self.chain_net).__name__}')
        if len(self.chain_losses):
            raise ValueError(f'{owner}: give each stage its losses '
                             "(chain_net.stages[i].losses); 'chain_losses' "
                             'must stay empty')
        produced = set(self.chain_net.sources) | {
            s['output'] for s in self.chain_net.specs
        }
        for option, name in (('task_input', task_input),
                             ('color_from', color_from)):
            if name is not None and name not in produced:
                raise KeyError(f'{owner}: {option} {name!r} is neither a '
                               f'source nor a stage output '
                               f'({sorted(produced)})')
        self.task_input = task_input
        self.color_from = color_from

    # ------------------------------------------------------------------
    # the generic accessors under chain names
    # ------------------------------------------------------------------
    @property
    def chain_loss_weight(self) -> float:
        """w, the weight of the chain losses in the joint loss
        (:attr:`pre_loss_weight`)."""
        return self.pre_loss_weight

    @chain_loss_weight.setter
    def chain_loss_weight(self, value: float) -> None:
        self.pre_loss_weight = value

    @property
    def chain_frozen(self) -> bool:
        """Whether the whole pre-module chain is frozen
        (:attr:`pre_frozen`)."""
        return self.pre_frozen

    def set_chain_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) the whole pre-module chain; see
        :meth:`set_pre_frozen`."""
        self.set_pre_frozen(frozen)

    # ------------------------------------------------------------------
    def set_stage_frozen(self, name: str, frozen: bool) -> None:
        """Freeze (or unfreeze) one stage of the chain."""
        self.chain_net.set_stage_frozen(name, frozen)

    def init_weights(self) -> None:
        """Initialise, load ``chain_init``, then every stage's ``init``."""
        super().init_weights()
        self.chain_net.init_stages()

    def pre_log_prefixes(self) -> Tuple[str, ...]:
        return tuple(f'{name}.' for name in self.chain_net.names)

    def _weighted_pre_losses(self, run: Dict[str, Any],
                             inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        weight = self.pre_loss_weight
        if weight == 0:
            return {}
        losses = self.chain_net.weighted_losses(run)
        # the stage weights (``<stage>.eta`` / ``.lambda``) are logged as
        # they are; the losses (keys with 'loss', what MMEngine sums) get w
        return {
            key: weight * value if 'loss' in key else value
            for key, value in losses.items()
        }

    # ------------------------------------------------------------------
    def _run_pre(self, inputs: torch.Tensor) -> Dict[str, Any]:
        return self.chain_net(inputs)

    def _task_image(self, run: Dict[str, Any],
                    data_samples: Sequence) -> torch.Tensor:
        images = run['images']
        x = images[self.task_input]
        if x.shape[1] == 3:
            return x.clamp(0, 1)
        if self.color_from is None:
            return x.clamp(0, 1).expand(-1, 3, -1, -1)
        chroma = rgb_to_ycbcr(images[self.color_from].clamp(0, 1))[:, 1:]
        return ycbcr_to_rgb(torch.cat([x.clamp(0, 1), chroma], 1)).clamp(0, 1)

    def _pre_losses(self, run: Dict[str, Any],
                    inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        # stage losses are named and weighted per stage: see
        # _weighted_pre_losses
        return {}

    def _attach_pre(self, samples: List, run: Dict[str, Any]) -> None:
        images = run['images']
        outputs = [s['output'] for s in self.chain_net.specs]
        task_rgb = self._task_image(run, samples)
        for i, sample in enumerate(samples):
            shape = sample.get('img_shape')
            for name in outputs:
                sample.set_field(
                    crop_to_shape(images[name][i].clamp(0, 1), shape),
                    f'pred_{name}')
            if images[self.task_input].shape[1] == 1:
                sample.pred_fused = crop_to_shape(
                    images[self.task_input][i].clamp(0, 1), shape)
                if self.color_from is not None:
                    sample.pred_fused_rgb = crop_to_shape(task_rgb[i], shape)
            else:
                sample.pred_img = crop_to_shape(task_rgb[i], shape)
