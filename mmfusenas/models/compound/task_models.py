"""The registered compound models: stages of pre-modules + a detector or a
segmentor (``Chain*``), and the one-stage models of TIM (``Fusion*``) and
RUAS (``Scene*``) under their single-stage config names."""
import copy
from typing import Any, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmfusenas.models.utils.module_checkpoint import (ModuleInit,
                                                      parse_module_init)
from mmfusenas.registry import MODELS
from mmfusenas.utils.config_tree import type_name
from mmfusenas.utils.typing_utils import LossDict, ModuleConfigType
from .base_pre_task_model import BasePreTaskModel

FUSED_COLORS = ('rgb', 'gray')
#: FusionDataPreprocessor's stacked luminances, padded to 32
FUSION_PREPROCESSOR = dict(type='FusionDataPreprocessor', pad_size_divisor=32)


@MODELS.register_module()
class ChainDetector(BasePreTaskModel):
    """Stages of pre-modules + a real MMDetection detector.

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
        **kwargs: :class:`BasePreTaskModel`'s options (``stages``,
            ``sources``, ``task_input``, ``color_from``, ...).
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
    """Stages of pre-modules + a real MMSegmentation segmentor.

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


def fusion_stage(fusion_net: ModuleConfigType,
                 fusion_losses: Sequence[ModuleConfigType] = (),
                 fusion_loss_weight: float = 1.0,
                 fused_color: str = 'rgb',
                 fusion_init: Optional[ModuleInit] = None,
                 freeze_fusion: bool = False,
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 **kwargs: Any) -> dict:
    """The options of a compound model whose one stage is TIM's N_F (see
    :class:`FusionDetector`), with the other options ``kwargs``."""
    if fused_color not in FUSED_COLORS:
        raise ValueError(f'fused_color must be one of {FUSED_COLORS}, got '
                         f'{fused_color!r}')
    rgb = fused_color == 'rgb'
    pre = copy.deepcopy(FUSION_PREPROCESSOR if data_preprocessor is None
                        else data_preprocessor)
    if type_name(pre) == 'FusionDataPreprocessor':  # a class, scoped or not
        pre.setdefault('append_chroma', rgb)
    appends = pre.get('append_chroma', rgb) if isinstance(pre, dict) else \
        getattr(pre, 'append_chroma', rgb)
    if appends != rgb:
        raise ValueError(
            f'fused_color={fused_color!r} reads the chroma from the batch '
            f'when rgb: the data preprocessor needs append_chroma={rgb}, got '
            f'{appends}')
    return dict(
        sources=dict(sources=None, chroma=2) if rgb else dict(sources=None),
        stages=[
            dict(name='fusion', kind='fusion', module=fusion_net,
                 inputs=['sources'], output='fused', losses=fusion_losses,
                 loss_weight=fusion_loss_weight,
                 init=parse_module_init(fusion_init, 'fusion_init'),
                 freeze=freeze_fusion)
        ],
        task_input='fused',
        color_from='chroma' if rgb else None,
        data_preprocessor=pre,
        **kwargs)


def scene_stage(scene_net: ModuleConfigType,
                scene_losses: Sequence[ModuleConfigType] = (),
                scene_loss_weight: float = 1.0,
                scene_init: Optional[ModuleInit] = None,
                freeze_scene: bool = False,
                **kwargs: Any) -> dict:
    """The options of a compound model whose one stage is the RUAS scene
    module (see :class:`SceneDetector`), with the other options
    ``kwargs``."""
    return dict(
        sources=dict(low=3),
        stages=[
            dict(name='scene', kind='scene', module=scene_net, inputs=['low'],
                 output='img', losses=scene_losses,
                 loss_weight=scene_loss_weight,
                 init=parse_module_init(scene_init, 'scene_init'),
                 freeze=freeze_scene)
        ],
        task_input='img',
        **kwargs)


@MODELS.register_module()
class FusionDetector(ChainDetector):
    """Fusion-then-detection: TIM's fusion network N_F (Sec. 3.1) feeds a
    real MMDetection detector.

    The one stage ``'fusion'`` runs ``fusion_net`` on the ``(N, M, H, W)``
    luminances of ``FusionDataPreprocessor`` and writes ``'fused'``; the
    detector sees it with the chroma of the colour source
    (``fused_color='rgb'``: ``FusionDataPreprocessor(append_chroma=True)``
    appends it to the batch) or grey (``'gray'``). The loss (TIM Alg. 1
    line 15) is ``ℓ_T + η · Σ_k ℓ_F,k``, each ``ℓ_F,k`` reading the fused image
    or the output of ``fusion_net`` it names (``output``: the branch
    losses of :mod:`mmfusenas.models.fusion.fusion_outputs`), logged as
    ``fusion.<loss_name>`` and η as ``fusion.eta``; ``predict`` adds
    ``pred_fused`` / ``pred_fused_rgb``. η is
    ``set_loss_weight('fusion', η)``; N_F freezes with
    ``set_stage_frozen('fusion', True)``.

    Example::

        model = dict(
            type='FusionDetector',
            fusion_net=dict(type='SimpleFusionNet', in_channels=2),
            detector=dict(type='RetinaNet', ...),
            fusion_losses=[dict(type='MaxIntensityLoss'),
                           dict(type='MaxGradientLoss', loss_weight=2.0)],
            fusion_loss_weight=0.5)

    Args:
        fusion_net (dict | nn.Module): N_F (``SimpleFusionNet``,
            ``TIMFusionNet``, ``GenotypeNet``, a supernet searched by a
            ``BilevelSearchAlgorithm``, ...), the child ``fusion_net``.
        detector (dict | nn.Module): see :class:`ChainDetector`.
        fusion_losses (Sequence[dict | nn.Module]): the ℓ_F terms. Defaults
            to ().
        fusion_loss_weight (float): η >= 0. Defaults to 1.0.
        fused_color (str): ``'rgb'`` or ``'gray'``; ``'rgb'`` sets the
            ``FusionDataPreprocessor``'s ``append_chroma``. Defaults to
            'rgb'.
        fusion_init (str | dict, optional): N_F's checkpoint (prefixes
            tried: ``fusion_net.``, ``architecture.fusion_net.``, ``''``).
        freeze_fusion (bool): start with N_F frozen. Defaults to False.
        **kwargs: :class:`ChainDetector`'s and :class:`BasePreTaskModel`'s
            other options; the data preprocessor defaults to
            ``FusionDataPreprocessor(pad_size_divisor=32)``.
    """

    def __init__(self, fusion_net: ModuleConfigType,
                 detector: ModuleConfigType, **kwargs: Any) -> None:
        super().__init__(detector=detector,
                         **fusion_stage(fusion_net, **kwargs))


@MODELS.register_module()
class FusionSegmentor(ChainSegmentor):
    """Fusion-then-segmentation: N_F feeds a real MMSegmentation segmentor.

    As :class:`FusionDetector`, with ``segmentor`` (see
    :class:`ChainSegmentor`) for ``detector``.
    """

    def __init__(self, fusion_net: ModuleConfigType,
                 segmentor: ModuleConfigType, **kwargs: Any) -> None:
        super().__init__(segmentor=segmentor,
                         **fusion_stage(fusion_net, **kwargs))


@MODELS.register_module()
class SceneDetector(ChainDetector):
    """RUAS low-light detection (TPAMI 2022 Sec. 5): the scene module feeds
    a real MMDetection detector.

    The one stage ``'scene'`` maps the low-light RGB batch in ``[0, 1]``
    (the source ``'low'``) to the enhanced image ``u`` (``'img'``), which
    the detector sees clamped; the official detector feeds ``255 u - (123,
    117, 104)``: ``mean=(123, 117, 104)``, ``std=(1, 1, 1)``. The loss
    (RUAS Eq. 5) is ``ℓ_t + λ · Σ_k ℓ_s,k``, each ``ℓ_s,k`` reading the
    fields of :class:`~mmfusenas.models.ImageEnhancer` but ``gt``
    (``pred``, ``target`` = ``low`` = the batch, ``illumination``, ...),
    logged as ``scene.<loss_name>`` and λ as ``scene.lambda``; the
    strategies of Table 6 are
    :class:`~mmfusenas.engine.hooks.RUASTrainingStrategyHook`'s;
    ``predict`` adds ``pred_img``. SSD in the paper, its neck / head
    searched (``SearchableSSDNeck`` / ``SearchableSSDHead``; the head
    ``mmfusenas.CompatSSDHead``). The data preprocessor defaults to
    mmdet's, RGB in [0, 1], padded to 32.

    Args:
        scene_net (dict | nn.Module): the scene module (``RUASNet``, a
            ``GenotypeNet`` of a searched one, a supernet inside a
            ``CooperativeSearchAlgorithm``), ``(N, 3, H, W) -> (N, 3, H,
            W)``, the child ``scene_net``.
        detector (dict | nn.Module): see :class:`ChainDetector`.
        scene_losses (Sequence[dict | nn.Module]): the ℓ_s terms. Defaults
            to ().
        scene_loss_weight (float): λ >= 0. Defaults to 1.0.
        scene_init (str | dict, optional): its checkpoint (prefixes
            ``scene_net.``, ``architecture.scene_net.``, ``network.`` (an
            ImageEnhancer, e.g. the official weights converted by
            ``tools/model_converters/ruas_official_to_mmfusenas.py``),
            ``architecture.network.``, ``''`` tried).
        freeze_scene (bool): start with it frozen. Defaults to False.
        **kwargs: :class:`ChainDetector`'s and :class:`BasePreTaskModel`'s
            other options.
    """

    default_data_preprocessor = dict(
        type='mmdet.DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32)

    def __init__(self, scene_net: ModuleConfigType,
                 detector: ModuleConfigType, **kwargs: Any) -> None:
        super().__init__(detector=detector,
                         **scene_stage(scene_net, **kwargs))


@MODELS.register_module()
class SceneSegmentor(ChainSegmentor):
    """RUAS low-light segmentation: the scene module feeds a real
    MMSegmentation segmentor, as :class:`SceneDetector` with ``segmentor``
    (see :class:`ChainSegmentor`) for ``detector``.

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

    def __init__(self, scene_net: ModuleConfigType,
                 segmentor: ModuleConfigType, **kwargs: Any) -> None:
        super().__init__(segmentor=segmentor,
                         **scene_stage(scene_net, **kwargs))
