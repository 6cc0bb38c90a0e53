"""The registered compound models: a chain of pre-modules + a detector or a
segmentor, and the one-stage chains of TIM (``Fusion*``) and RUAS
(``Scene*``) under their single-stage config names."""
from typing import Any, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmfusenas.registry import MODELS
from mmfusenas.utils.module_checkpoint import ModuleInit, parse_module_init
from mmfusenas.utils.typing_utils import LossDict, ModuleConfigType
from .base_pre_task_model import SAMPLE_CHROMA, BasePreTaskModel

FUSED_COLORS = ('rgb', 'gray')


@MODELS.register_module()
class ChainDetector(BasePreTaskModel):
    """A chain of pre-modules + a real MMDetection detector.

    The detector (any mmdet detector with ``loss`` / ``predict(...,
    rescale)``: RetinaNet, SSD, FCOS, Faster / Mask R-CNN, ...) is built
    from ``detector`` in scope ``mmdet`` and gets the normalised task image
    with the batch's ``DetDataSample`` s; ``predict`` adds
    ``pred_instances`` (rescaled to ``ori_shape`` with ``rescale``, what the
    COCO / VOC metrics expect). A config (night-time detection: RUAS
    enhances the VIS image, TIM's N_F fuses it with IR) is in
    ``docs/methods/compose.md``.

    Args:
        detector (dict | nn.Module): mmdet detector config (``_scope_``
            defaults to ``'mmdet'``; no ``data_preprocessor``).
        rescale (bool): rescale predicted boxes to ``ori_shape``. Defaults
            to True.
        **kwargs: :class:`BasePreTaskModel`'s options (``chain_net``,
            ``task_input``, ``color_from``, ...).
    """

    def __init__(self,
                 detector: ModuleConfigType,
                 rescale: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(task=('detector', detector, 'mmdet'), **kwargs)
        self.rescale = rescale

    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        return self.detector.loss(task_inputs, data_samples)

    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        return self.detector.predict(
            task_inputs, data_samples, rescale=self.rescale)


@MODELS.register_module()
class ChainSegmentor(BasePreTaskModel):
    """A chain of pre-modules + a real MMSegmentation segmentor.

    The segmentor (``EncoderDecoder`` with an FCN / ASPP / DeepLabV3+ /
    searched decoder, ...) is built from ``segmentor`` in scope ``mmseg``.
    Padding, as mmseg's ``SegDataPreProcessor`` does it: in training the
    label maps are padded at the bottom / right to the batch size with the
    decode head's ``ignore_index`` (in place, idempotent); in ``predict``
    every sample gets ``padding_size = [0, W - w, 0, H - h]``, which mmseg
    cuts off the logits before resizing them to ``ori_shape``. The label
    maps stay unpadded there, as ``IoUMetric`` compares them with the
    prediction at ``ori_shape`` (so a test pipeline must not resize).

    Args:
        segmentor (dict | nn.Module): mmseg segmentor config (``_scope_``
            defaults to ``'mmseg'``; no ``data_preprocessor``).
        **kwargs: :class:`BasePreTaskModel`'s options.
    """

    def __init__(self, segmentor: ModuleConfigType, **kwargs: Any) -> None:
        super().__init__(task=('segmentor', segmentor, 'mmseg'), **kwargs)

    @property
    def ignore_index(self) -> int:
        """Label of the padded pixels: the decode head's ``ignore_index``."""
        head = getattr(self.segmentor, 'decode_head', None)
        return getattr(head, 'ignore_index', 255)

    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        h, w = task_inputs.shape[-2:]
        for sample in data_samples:
            if 'gt_sem_seg' not in sample:
                raise KeyError(
                    f'{type(self).__name__}: sample '
                    f"{sample.get('stem', sample.get('img_path'))!r} has no "
                    'gt_sem_seg; load the label maps in the pipeline '
                    '(LoadPairedAnnotations(with_seg=True) + '
                    'PackFusionSegInputs, or mmseg LoadAnnotations + '
                    'PackSegInputs)')
            seg = sample.gt_sem_seg
            if tuple(seg.shape) != (h, w):
                pad = (0, w - seg.shape[-1], 0, h - seg.shape[-2])
                sample.gt_sem_seg = PixelData(
                    data=F.pad(seg.data, pad, value=self.ignore_index),
                    metainfo=seg.metainfo)
        return self.segmentor.loss(task_inputs, data_samples)

    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        height, width = task_inputs.shape[-2:]
        for sample in data_samples:
            h, w = sample.img_shape[:2]
            sample.set_metainfo(
                dict(padding_size=[0, int(width - w), 0, int(height - h)]))
        return self.segmentor.predict(task_inputs, data_samples)


def one_stage(kind: str, module: ModuleConfigType, source: str,
              channels: Optional[int], output: str,
              losses: Sequence[ModuleConfigType], loss_weight: float,
              init: Optional[ModuleInit], freeze: bool) -> dict:
    """The config of a chain whose one stage is named ``kind``."""
    return dict(
        type='PreModuleChain',
        sources={source: channels},
        stages=[
            dict(name=kind, kind=kind, module=module, inputs=[source],
                 output=output, losses=losses, loss_weight=loss_weight,
                 init=parse_module_init(init, f'{kind}_init'),
                 freeze=freeze)
        ])


class BaseFusionTaskModel:
    """TIM's fusion network N_F in front of the task model (Sec. 3.1): a
    one-stage chain under the single-stage config names. The fusion side of
    ``FusionDetector`` / ``FusionSegmentor``, put before their task side
    (``ChainDetector`` / ``ChainSegmentor``); not a model on its own.

    The stage ``'fusion'`` runs ``fusion_net`` on the whole batch, the
    ``(N, M, H, W)`` sources of ``FusionDataPreprocessor``, and writes
    ``'fused'``; the task model sees it with the sample's chroma
    (``fused_color='rgb'``) or grey (``'gray'``). The loss (TIM Alg. 1 line
    15) is ``ℓ_T + η · Σ_k ℓ_F,k``, each ``ℓ_F,k`` reading the fused image
    or the output of ``fusion_net`` it names (``output``: the branch
    losses of :mod:`mmfusenas.models.fusion.fusion_outputs`), logged as
    ``fusion.<loss_name>`` and η as ``fusion.eta``; ``predict`` adds
    ``pred_fused`` / ``pred_fused_rgb``.

    Args:
        fusion_net (dict | nn.Module): N_F (``SimpleFusionNet``,
            ``TIMFusionNet``, ``GenotypeNet``, a supernet searched by a
            ``BilevelSearchAlgorithm``, ...).
        fusion_losses (Sequence[dict | nn.Module]): the ℓ_F terms. Defaults
            to ().
        fusion_loss_weight (float): η >= 0. Defaults to 1.0.
        fused_color (str): ``'rgb'`` or ``'gray'``. Defaults to 'rgb'.
        fusion_init (str | dict, optional): N_F's checkpoint (a stage
            ``init``; prefixes tried: ``fusion_net.``,
            ``architecture.fusion_net.``, ``''``).
        freeze_fusion (bool): start with N_F frozen. Defaults to False.
        **kwargs: the task side's and :class:`BasePreTaskModel`'s options;
            the data preprocessor defaults to ``FusionDataPreprocessor(
            pad_size_divisor=32)``.
    """

    default_data_preprocessor = dict(
        type='FusionDataPreprocessor', pad_size_divisor=32)

    def __init__(self,
                 fusion_net: ModuleConfigType,
                 fusion_losses: Sequence[ModuleConfigType] = (),
                 fusion_loss_weight: float = 1.0,
                 fused_color: str = 'rgb',
                 fusion_init: Optional[ModuleInit] = None,
                 freeze_fusion: bool = False,
                 **kwargs: Any) -> None:
        if fused_color not in FUSED_COLORS:
            raise ValueError(f'{type(self).__name__}: fused_color must be '
                             f'one of {FUSED_COLORS}, got {fused_color!r}')
        super().__init__(
            chain_net=one_stage('fusion', fusion_net, 'sources', None,
                                'fused', fusion_losses, fusion_loss_weight,
                                fusion_init, freeze_fusion),
            task_input='fused',
            color_from=SAMPLE_CHROMA if fused_color == 'rgb' else None,
            stage_attrs=('fusion_net', 'fusion_losses'),
            **kwargs)

    @property
    def fusion_loss_weight(self) -> float:
        """η, the weight of the fusion losses."""
        return self.pre_net.spec('fusion')['loss_weight']

    @fusion_loss_weight.setter
    def fusion_loss_weight(self, value: float) -> None:
        self.pre_net.set_loss_weight('fusion', value)

    @property
    def fusion_frozen(self) -> bool:
        """Whether N_F is frozen."""
        return self.pre_frozen

    def set_fusion_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) N_F; see :meth:`set_pre_frozen`."""
        self.set_pre_frozen(frozen)

    def fuse(self, inputs: torch.Tensor) -> torch.Tensor:
        """N_F's fused batch (no gradient while N_F is frozen)."""
        return self.run_pre(inputs)['images']['fused']


class BaseSceneTaskModel:
    """The RUAS scene module in front of the task model (TPAMI 2022
    Sec. 5): a one-stage chain under the single-stage config names. The
    scene side of ``SceneDetector`` / ``SceneSegmentor``, put before their
    task side; not a model on its own.

    The stage ``'scene'`` maps the low-light RGB batch in ``[0, 1]`` (the
    source ``'low'``) to the enhanced image ``u`` (``'img'``), which the
    task model sees clamped; the official detector feeds ``255 u - (123,
    117, 104)``: ``mean=(123, 117, 104)``, ``std=(1, 1, 1)``. The loss (RUAS
    Eq. 5) is ``ℓ_t + λ · Σ_k ℓ_s,k``, each ``ℓ_s,k`` reading the fields of
    :class:`~mmfusenas.models.ImageEnhancer` but ``gt`` (``pred``,
    ``target`` = ``low`` = the batch, ``illumination``, ...), logged as
    ``scene.<loss_name>`` and λ as ``scene.lambda``; the strategies of Table
    6 are :class:`~mmfusenas.engine.hooks.RUASTrainingStrategyHook`'s;
    ``predict`` adds ``pred_img``.

    Args:
        scene_net (dict | nn.Module): the scene module (``RUASNet``, a
            ``GenotypeNet`` of a searched one, a supernet inside a
            ``CooperativeSearchAlgorithm``), ``(N, 3, H, W) -> (N, 3, H,
            W)``.
        scene_losses (Sequence[dict | nn.Module]): the ℓ_s terms. Defaults
            to ().
        scene_loss_weight (float): λ >= 0. Defaults to 1.0.
        scene_init (str | dict, optional): its checkpoint (prefixes
            ``scene_net.``, ``architecture.scene_net.``, ``network.`` (an
            ImageEnhancer, e.g. the official weights converted by
            ``tools/model_converters/ruas_official_to_mmfusenas.py``),
            ``architecture.network.``, ``''`` tried).
        freeze_scene (bool): start with it frozen. Defaults to False.
        **kwargs: the task side's and :class:`BasePreTaskModel`'s options.
    """

    def __init__(self,
                 scene_net: ModuleConfigType,
                 scene_losses: Sequence[ModuleConfigType] = (),
                 scene_loss_weight: float = 1.0,
                 scene_init: Optional[ModuleInit] = None,
                 freeze_scene: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(
            chain_net=one_stage('scene', scene_net, 'low', 3, 'img',
                                scene_losses, scene_loss_weight, scene_init,
                                freeze_scene),
            task_input='img',
            stage_attrs=('scene_net', 'scene_losses'),
            **kwargs)

    @property
    def scene_loss_weight(self) -> float:
        """λ, the weight of the scene losses."""
        return self.pre_net.spec('scene')['loss_weight']

    @scene_loss_weight.setter
    def scene_loss_weight(self, value: float) -> None:
        self.pre_net.set_loss_weight('scene', value)

    @property
    def scene_frozen(self) -> bool:
        """Whether the scene module is frozen."""
        return self.pre_frozen

    def set_scene_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) the scene module."""
        self.set_pre_frozen(frozen)



@MODELS.register_module()
class FusionDetector(BaseFusionTaskModel, ChainDetector):
    """Fusion-then-detection: N_F feeds a real MMDetection detector.

    Example::

        model = dict(
            type='FusionDetector',
            fusion_net=dict(type='SimpleFusionNet', in_channels=2),
            detector=dict(type='RetinaNet', ...),
            fusion_losses=[dict(type='MaxIntensityLoss'),
                           dict(type='MaxGradientLoss', loss_weight=2.0)],
            fusion_loss_weight=0.5)
    """


@MODELS.register_module()
class FusionSegmentor(BaseFusionTaskModel, ChainSegmentor):
    """Fusion-then-segmentation: N_F feeds a real MMSegmentation segmentor.

    Options: :class:`BaseFusionTaskModel` and :class:`ChainSegmentor`.
    """


@MODELS.register_module()
class SceneDetector(BaseSceneTaskModel, ChainDetector):
    """RUAS low-light detection: scene module → a real mmdet detector.

    SSD in the paper, its neck / head searched (``SearchableSSDNeck`` /
    ``SearchableSSDHead``; the head ``mmfusenas.CompatSSDHead``). The data
    preprocessor defaults to mmdet's, RGB in [0, 1], padded to 32.
    """

    default_data_preprocessor = dict(
        type='mmdet.DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32)


@MODELS.register_module()
class SceneSegmentor(BaseSceneTaskModel, ChainSegmentor):
    """RUAS low-light segmentation: scene module → a real mmseg segmentor.

    DeepLabV3+ in the paper, its ASPP searched (``SearchableASPPHead``).
    The data preprocessor defaults to mmseg's, RGB in [0, 1], padded to 32
    (labels with 255), also at test time.
    """

    default_data_preprocessor = dict(
        type='mmseg.SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        size_divisor=32,
        pad_val=0,
        seg_pad_val=255,
        test_cfg=dict(size_divisor=32))
