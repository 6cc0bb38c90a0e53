"""Export a model's image network to ONNX or ``torch.export`` and check it.

``python tools/deployment/export.py CONFIG CHECKPOINT --out FILE [--format
onnx|torch_export] [--shape H W] [--optimize fold_bn] [--check-images PATH
...] [--static] [--opset 18]``: the core network of the model that
:func:`mmfusenas.apis.init_model` builds is exported (dynamic batch, height
and width unless ``--static``), run (ONNX Runtime / ``torch.export.load``)
and compared with eager PyTorch on the example, a second size and real
images; it fails above ``--atol``. Pre- and post-processing are not in the
exported file; see ``docs/user_guides/deployment.md``.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.apis import (OnnxRuntimeNetwork,  # noqa: E402
                            config_modalities, core_network, export_network,
                            init_model, parse_optimize)
from mmfusenas.apis.deploy import EXPORT_FORMATS, ort_session  # noqa: E402
from mmfusenas.utils.fileio import read_image  # noqa: E402


class ExportedRunner:
    """Run an exported model: a ``.onnx`` file through ONNX Runtime on the
    CPU (:class:`~mmfusenas.apis.OnnxRuntimeNetwork`), a ``.pt2`` file
    through ``torch.export.load``."""

    def __init__(self, path: str) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'exported model not found: {path}')
        if path.endswith('.pt2'):
            self.run = torch.export.load(path).module()
        elif path.endswith('.onnx'):
            self.run = OnnxRuntimeNetwork(None, ort_session(path))
        else:
            raise ValueError(f'{path}: expected a .onnx or .pt2 file')

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)


def compare_outputs(reference: torch.nn.Module, runner,
                    inputs: Sequence[torch.Tensor]) -> Dict[str, float]:
    """``dict(max_abs_diff=, num_inputs=)`` of ``runner`` (e.g. an
    :class:`ExportedRunner`) against the eager ``reference`` on
    ``inputs``."""
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            ref, out = reference(x), runner(x)
            if out.shape != ref.shape:
                raise ValueError(f'exported output shape {tuple(out.shape)} '
                                 f'!= eager {tuple(ref.shape)} for input '
                                 f'{tuple(x.shape)}')
            worst = max(worst, (out.float() - ref.float()).abs().max().item())
    return dict(max_abs_diff=worst, num_inputs=len(inputs))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export the image network of an MMFuseNAS model to '
        'ONNX or torch.export and check it against eager PyTorch')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', help="checkpoint file ('none': initial weights)")
    parser.add_argument('--out', required=True, help='output file')
    parser.add_argument(
        '--format',
        default='onnx',
        choices=sorted(EXPORT_FORMATS),
        help='onnx (.onnx, run by ONNX Runtime) or torch_export (.pt2)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=(256, 256),
        metavar=('H', 'W'),
        help='example input size (rounded up to the size multiple)')
    parser.add_argument(
        '--channels',
        type=int,
        help='input channels (default: number of modalities for fusion '
        'models, 3 for enhancers)')
    parser.add_argument(
        '--optimize',
        default=None,
        help='fold_bn and / or channels_last before export '
        '(comma-separated)')
    parser.add_argument(
        '--check-images',
        nargs='+',
        default=[],
        metavar='PATH',
        help='real images to compare exported vs eager outputs on')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-5,
        help='largest allowed |exported - eager| (default 1e-5)')
    parser.add_argument(
        '--static',
        action='store_true',
        help='fixed input size (default: dynamic batch, H and W)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument(
        '--keep-prelu',
        action='store_true',
        help='ONNX: keep single-slope PReLUs as PRelu (default: written as '
        'LeakyRelu of the same slope, the same function, which ONNX Runtime '
        'fuses into the convolution before it)')
    return parser.parse_args(argv)


def read_check_inputs(paths: Sequence[str], channels: int,
                      div: int) -> List[torch.Tensor]:
    """``(1, C, H, W)`` float inputs in ``[0, 1]`` from real images.

    ``channels == 3``: one RGB image per path; otherwise groups of
    ``channels`` grey images (one per modality). Cropped to a multiple of
    ``div``.
    """
    group = 1 if channels == 3 else channels
    if len(paths) % group:
        raise ValueError(f'--check-images: {len(paths)} path(s) cannot be '
                         f'grouped into inputs of {group} image(s)')
    inputs = []
    for i in range(0, len(paths), group):
        planes = []
        for path in paths[i:i + group]:
            try:
                img = read_image(path,
                                 'color' if group == 1 else 'grayscale')
            except OSError as err:
                raise FileNotFoundError(f'--check-images: {err}') from None
            if group == 1:
                planes.extend(np.moveaxis(img[..., ::-1], 2, 0))
            else:
                planes.append(img)
        h, w = planes[0].shape
        if any(p.shape != (h, w) for p in planes):
            raise ValueError(f'--check-images: the images of one input '
                             f'differ in size: {paths[i:i + group]}')
        h, w = h // div * div, w // div * div
        arr = np.stack([p[:h, :w] for p in planes]).astype(np.float32) / 255
        inputs.append(torch.from_numpy(arr)[None])
    return inputs


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Export and check; return the export summary."""
    args = parse_args(argv)
    names = parse_optimize(args.optimize)
    for name in names:
        if name not in ('fold_bn', 'channels_last'):
            raise ValueError(f'--optimize {name} cannot be exported (export '
                             'the plain or folded network)')
    ckpt = None if args.checkpoint == 'none' else args.checkpoint
    model = init_model(args.config, ckpt, optimize=names)
    attr, net = core_network(model)
    if not attr:
        raise TypeError(f'{type(model).__name__} has no image network '
                        f'(fusion_net / network) to export')
    channels = args.channels or (len(config_modalities(model.cfg)) or 2
                                 if attr == 'fusion_net' else 3)
    div = getattr(model.data_preprocessor, 'pad_size_divisor', 1) or 1
    h, w = (-(-s // div) * div for s in args.shape)
    real = read_check_inputs(args.check_images, channels, div)
    torch.manual_seed(0)
    example = torch.rand(1, channels, h, w)
    print(f'exporting {type(net).__name__} ({attr}) to {args.out} '
          f'({args.format}, example {tuple(example.shape)}, '
          f"{'static' if args.static else 'dynamic N, H, W'})")
    export_network(
        net,
        example,
        args.out,
        fmt=args.format,
        dynamic=not args.static,
        opset=args.opset,
        prelu_as_leaky=not args.keep_prelu)
    checks = [example]
    if not args.static:  # a second size and batch, the real images
        checks += [torch.rand(2, channels, h + 2 * div, w + div)] + real
    result = compare_outputs(net, ExportedRunner(args.out), checks)
    result.update(out=args.out, format=args.format)
    print(f'exported vs eager on {result["num_inputs"]} input(s): max abs '
          f'diff {result["max_abs_diff"]:.3g} (atol {args.atol:g})')
    if result['max_abs_diff'] > args.atol:
        raise RuntimeError(
            f'{args.out}: exported outputs differ from eager by '
            f'{result["max_abs_diff"]:.3g} > --atol {args.atol:g}')
    return result


if __name__ == '__main__':
    main()
