"""The model that trains and runs a fusion network on paired images."""
from typing import Dict, List, Optional, Sequence

import torch

from mmfusenas.models.base_image_model import BaseImageModel, build_losses
from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.models.fusion.fusion_outputs import (MAIN_OUTPUT,
                                                    check_fused_image,
                                                    check_loss_outputs,
                                                    loss_output,
                                                    run_fusion_outputs)
from mmfusenas.models.utils.colorspace import recolor_pillow, ycbcr_to_rgb
from mmfusenas.registry import MODELS
from mmfusenas.utils.typing_utils import ModuleConfigType


@MODELS.register_module()
class ImageFusor(BaseImageModel):
    """Fusion network + unsupervised fusion losses, MMEngine style.

    ``inputs``: the ``(N, M, H, W)`` batch of :class:`FusionDataPreprocessor`.
    ``mode='loss'`` returns the weighted losses, ``'predict'`` the samples with
    ``pred_fused`` (and ``pred_fused_rgb`` when a colour source exists),
    ``'tensor'`` the raw fused batch ``(N, 1, H, W)``.

    Args:
        fusion_net (dict | nn.Module): maps ``(N, M, H, W)`` to
            ``(N, 1, H, W)`` in ``[0, 1]``.
        losses (Sequence[dict | nn.Module]): fusion losses with unique
            ``loss_name``; a loss reads the fused image or the network output
            named by its ``output``.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor``.
        preprocess (dict, optional): network input convention
            (``docs/methods/fusion_baselines.md``): ``quantize='round'``
            (8-bit sources), ``repeat`` (channel repeats), ``mean`` / ``std``.
        postprocess (dict, optional): network output convention: ``mean`` /
            ``std`` (de-normalise, then clamp), ``gray_weights``,
            ``luma_quantize`` / ``chroma_quantize`` (``'round'`` /
            ``'floor'``), ``color`` (re-attach chroma, default True),
            ``color_convert`` (``'bt601'`` or ``'pillow'``), ``normalize``
            (``'minmax'``), ``rounding`` (``'round'`` or ``'floor'``, how the
            written image is quantised).
        init_cfg (dict, optional): weight initialisation config.
    """

    def __init__(self,
                 fusion_net: ModuleConfigType,
                 losses: Sequence[ModuleConfigType] = (),
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 preprocess: Optional[dict] = None,
                 postprocess: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.fusion_net = self._build(fusion_net)
        self.losses = build_losses(losses, 'ImageFusor')
        #: whether some loss reads a branch output (``return_all=True``)
        self._needs_all = check_loss_outputs(self.fusion_net, self.losses,
                                             'ImageFusor')
        self.preprocess = check_io_options(preprocess, PREPROCESS_KEYS,
                                           'preprocess')
        self.postprocess = check_io_options(postprocess, POSTPROCESS_KEYS,
                                            'postprocess')

    default_preprocessor = dict(type='FusionDataPreprocessor')

    def tensor(self, inputs: torch.Tensor,
               data_samples: Optional[List] = None) -> torch.Tensor:
        """The fused batch ``(N, 1, H, W)`` (see ``mode='tensor'``)."""
        return self._fuse(inputs)

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Weighted fusion losses on a batch."""
        if not len(self.losses):
            raise ValueError('ImageFusor has no losses to train with')
        if self._needs_all:
            outputs = run_fusion_outputs(
                self.fusion_net, prepare_inputs(inputs, self.preprocess),
                True, 'ImageFusor.fusion_net')
        else:
            # the losses see the fused image of the inference path: the
            # network's output after ``postprocess`` (de-normalised, reduced
            # to grey; e.g. IFCNN's three normalised channels)
            outputs = {
                MAIN_OUTPUT:
                check_fused_image(self._fuse(inputs), inputs,
                                  'ImageFusor.fusion_net')
            }
        losses = {
            loss_fn.loss_name: loss_fn(outputs[loss_output(loss_fn)], inputs)
            for loss_fn in self.losses
        }
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List] = None) -> List:
        """Fuse a batch and attach the results to its data samples."""
        if data_samples is None:
            raise ValueError('predict mode needs data_samples')
        post = self.postprocess
        fused = quantize(self._fuse(inputs).clamp(0, 1),
                         post.get('luma_quantize'))
        for i, sample in enumerate(data_samples):
            pred = crop_to_shape(fused[i], sample.get('img_shape'))
            sample.pred_fused = normalize_image(pred, post.get('normalize'))
            if 'chroma' in sample and post.get('color', True):
                if post.get('color_convert', 'bt601') == 'pillow':
                    rgb = self._recolor_pillow(pred, sample)
                else:
                    chroma = quantize(sample.chroma,
                                      post.get('chroma_quantize'))
                    rgb = ycbcr_to_rgb(torch.cat([pred, chroma], dim=0))
                sample.pred_fused_rgb = normalize_image(
                    rgb.clamp(0, 1), post.get('normalize'))
            if 'rounding' in post:
                sample.set_metainfo(dict(rounding=post['rounding']))
        return data_samples

    @staticmethod
    def _recolor_pillow(pred: torch.Tensor, sample) -> torch.Tensor:
        """Recolour with Pillow's 8-bit YCbCr (``color_convert='pillow'``)."""
        index = list(sample.modalities).index(sample.color_modality)
        src_y = sample.sources[index:index + 1].to(pred)
        rgb8 = ycbcr_to_rgb(torch.cat([src_y, sample.chroma.to(pred)]))
        rgb8 = torch.floor(rgb8.clamp(0, 1) * 255 + 0.5).to(torch.uint8)
        luma8 = torch.floor(pred[0] * 255 + 0.5).to(torch.uint8)
        out = recolor_pillow(luma8.cpu().numpy(),
                             rgb8.permute(1, 2, 0).cpu().numpy())
        return torch.from_numpy(out.copy()).permute(2, 0, 1).to(pred) / 255

    def _fuse(self, inputs: torch.Tensor) -> torch.Tensor:
        """The network on the prepared inputs, output post-processed to one
        channel (before clamping / quantisation)."""
        out = self.fusion_net(prepare_inputs(inputs, self.preprocess))
        return reduce_output(out, self.postprocess)


#: accepted keys of ``ImageFusor(preprocess=...)`` / ``postprocess``
PREPROCESS_KEYS = ('quantize', 'repeat', 'mean', 'std')
POSTPROCESS_KEYS = ('mean', 'std', 'gray_weights', 'luma_quantize',
                    'chroma_quantize', 'color', 'color_convert', 'normalize',
                    'rounding')
_QUANTIZE = (None, 'round', 'floor')


def check_io_options(options: Optional[dict], keys: Sequence[str],
                     name: str) -> dict:
    """Validate ``preprocess`` / ``postprocess`` of :class:`ImageFusor`."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(keys))
    if unknown:
        raise KeyError(f'ImageFusor: unknown {name} option(s) {unknown}; '
                       f'expected some of {list(keys)}')
    for key in ('quantize', 'luma_quantize', 'chroma_quantize'):
        if options.get(key) not in _QUANTIZE:
            raise ValueError(f'ImageFusor: {name}.{key} must be one of '
                             f'{_QUANTIZE}, got {options[key]!r}')
    if options.get('color_convert', 'bt601') not in ('bt601', 'pillow'):
        raise ValueError(f"ImageFusor: {name}.color_convert must be 'bt601' "
                         f"or 'pillow', got {options['color_convert']!r}")
    if options.get('normalize') not in (None, 'minmax'):
        raise ValueError(f"ImageFusor: {name}.normalize must be None or "
                         f"'minmax', got {options['normalize']!r}")
    if options.get('rounding', 'round') not in ('round', 'floor'):
        raise ValueError(f"ImageFusor: {name}.rounding must be 'round' or "
                         f"'floor', got {options['rounding']!r}")
    if ('mean' in options) != ('std' in options):
        raise ValueError(f'ImageFusor: {name} needs both mean and std, got '
                         f'{sorted(options)}')
    if name == 'preprocess' and 'mean' in options:
        repeat = options.get('repeat', 1)
        for key in ('mean', 'std'):
            if len(options[key]) != repeat:
                raise ValueError(
                    f'ImageFusor: preprocess.{key} needs one value per '
                    f'repeated channel (repeat={repeat}), got '
                    f'{options[key]!r}')
    return options


def quantize(x: torch.Tensor, mode: Optional[str]) -> torch.Tensor:
    """``x`` in ``[0, 1]`` on the 8-bit grid (``'round'`` / ``'floor'``),
    or unchanged for None."""
    if mode is None:
        return x
    scaled = x * 255
    scaled = torch.floor(scaled + 0.5) if mode == 'round' else \
        torch.floor(scaled)
    return scaled / 255


def normalize_image(x: torch.Tensor, mode: Optional[str]) -> torch.Tensor:
    """Min-max stretch of a whole image to ``[0, 1]`` (``'minmax'``; a
    constant image is left as is), or unchanged for None."""
    if mode is None:
        return x
    low, high = x.min(), x.max()
    if high <= low:
        return x
    return (x - low) / (high - low)


def _per_channel(values: Sequence[float], ref: torch.Tensor,
                 reps: int = 1) -> torch.Tensor:
    vec = torch.as_tensor(list(values), dtype=ref.dtype, device=ref.device)
    return vec.repeat(reps).view(1, -1, 1, 1)


def prepare_inputs(inputs: torch.Tensor, options: dict) -> torch.Tensor:
    """Apply ``ImageFusor(preprocess=...)`` to ``(N, M, H, W)`` sources."""
    if not options:
        return inputs
    x = quantize(inputs, options.get('quantize'))
    repeat = options.get('repeat', 1)
    if repeat > 1:
        x = x.repeat_interleave(repeat, dim=1)
    if 'mean' in options:
        sources = x.shape[1] // repeat
        x = (x - _per_channel(options['mean'], x, sources)) / \
            _per_channel(options['std'], x, sources)
    return x


def reduce_output(out: torch.Tensor, options: dict) -> torch.Tensor:
    """Apply the output part of ``ImageFusor(postprocess=...)``:
    de-normalise and clamp, then reduce to one channel."""
    if 'mean' in options:
        out = (out * _per_channel(options['std'], out) +
               _per_channel(options['mean'], out)).clamp(0, 1)
    weights = options.get('gray_weights')
    if weights is not None:
        if len(weights) != out.shape[1]:
            raise ValueError(
                f'ImageFusor: postprocess.gray_weights has {len(weights)} '
                f'values for a {out.shape[1]}-channel network output')
        out = (out * _per_channel(weights, out)).sum(dim=1, keepdim=True)
    return out
