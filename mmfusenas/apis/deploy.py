"""Optimised inference (``optimize=`` of :func:`mmfusenas.apis.init_model`,
``--optimize`` of the tools) and export of the core image network to ONNX
or ``torch.export`` (``tools/deployment/export.py``); see
``docs/user_guides/deployment.md``."""
import copy
import os
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from mmfusenas.utils import fold_batchnorm, prelu_to_leaky_relu
from mmfusenas.utils.activation_rewrite import is_single_slope_prelu

#: inference optimisations, in the order they are applied
OPTIMIZATIONS = ('fold_bn', 'channels_last', 'cpu_kernels', 'compile',
                 'onnxruntime')
#: what ``'all'`` expands to (``onnxruntime`` replaces ``compile``)
ALL_OPTIMIZATIONS = ('fold_bn', 'channels_last', 'compile')
#: export formats -> file suffix
EXPORT_FORMATS = {'onnx': '.onnx', 'torch_export': '.pt2'}

Optimize = Union[None, str, Sequence[str]]


def parse_optimize(optimize: Optimize) -> Tuple[str, ...]:
    """The names (in :data:`OPTIMIZATIONS` order) of None, ``'none'``,
    ``'all'``, a comma-separated string or a sequence of names."""
    if optimize is None:
        return ()
    if isinstance(optimize, str):
        optimize = [s.strip() for s in optimize.split(',') if s.strip()]
    names = set(optimize)
    if names <= {'none'}:
        return ()
    if 'all' in names:
        names = (names - {'all'}) | set(ALL_OPTIMIZATIONS)
    unknown = sorted(names - set(OPTIMIZATIONS))
    if unknown:
        raise ValueError(f'unknown inference optimisation(s) {unknown}; '
                         f"choose from {OPTIMIZATIONS}, 'all' or 'none'")
    if {'compile', 'onnxruntime'} <= names:
        raise ValueError('compile and onnxruntime exclude each other (both '
                         'replace the core network)')
    return tuple(n for n in OPTIMIZATIONS if n in names)


def add_optimize_argument(parser) -> None:
    """Add the tools' ``--optimize NAMES`` option to ``parser``."""
    parser.add_argument(
        '--optimize',
        metavar='NAMES',
        help='inference optimisations, comma-separated: fold_bn (BatchNorm '
        'folded into the convs), channels_last, compile (torch.compile), '
        'onnxruntime (the network exported to ONNX and run by ONNX '
        'Runtime), cpu_kernels (the CPU kernels of the plugin '
        "projects/cpu_kernels, on PYTHONPATH), 'all' (= fold_bn,"
        "channels_last,compile) or 'none'; default: the plain model; see "
        'docs/user_guides/deployment.md')


def core_network(model: nn.Module) -> Tuple[str, nn.Module]:
    """``(attribute, module)`` of a model's image network; a bare network
    is its own core (attribute ``''``)."""
    for attr in ('fusion_net', 'network'):
        net = getattr(model, attr, None)
        if isinstance(net, nn.Module):
            return attr, net
    return '', model


def optimize_for_inference(model: nn.Module,
                           optimize: Optimize,
                           verbose: bool = True) -> nn.Module:
    """Apply inference optimisations (:func:`parse_optimize`) to an
    eval-mode model or bare network, in place; ``compile`` / ``onnxruntime``
    replace its core network (a bare network is returned wrapped).
    ``verbose`` prints what was folded."""
    names = parse_optimize(optimize)
    if not names:
        return model
    if model.training:
        raise ValueError('optimize_for_inference needs an eval-mode model '
                         '(call model.eval() first)')
    if 'fold_bn' in names:
        report = fold_batchnorm(model)
        if verbose:
            print(report)
    if 'channels_last' in names:
        model.to(memory_format=torch.channels_last)
    if 'cpu_kernels' in names:
        try:
            from cpu_kernels import apply_cpu_kernels
        except ImportError as err:
            raise ImportError(
                'optimize cpu_kernels needs the plugin projects/cpu_kernels '
                'on the Python path (PYTHONPATH=projects/cpu_kernels; see '
                f'its README): {err}') from None
        report = apply_cpu_kernels(model)
        if verbose and len(report):
            print(report)
    if 'compile' in names or 'onnxruntime' in names:
        attr, net = core_network(model)
        if 'compile' in names:
            wrapped = torch.compile(net, dynamic=True)
        else:
            wrapped = OnnxRuntimeNetwork(net)
        if not attr:
            return wrapped
        setattr(model, attr, wrapped)
    model.inference_optimizations = names
    return model


class OnnxRuntimeNetwork(nn.Module):
    """An image network (one ``(N, C, H, W)`` tensor in, one out) exported
    at the first call (:func:`export_network`, dynamic sizes) and run by
    ONNX Runtime with ``torch.get_num_threads()`` threads; the eager
    network stays as ``.net``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.session = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise TypeError('OnnxRuntimeNetwork takes one (N, C, H, W) '
                            'tensor (wrap several inputs in PackedInputs)')
        if self.session is None:
            with tempfile.TemporaryDirectory() as tmp:
                path = export_network(self.net, x.detach().cpu(),
                                      osp.join(tmp, 'net.onnx'))
                self.session = ExportedRunner(
                    path, torch.get_num_threads()).session
        out = self.session.run(None, {'x': x.detach().cpu().numpy()})[0]
        return torch.from_numpy(np.asarray(out)).to(x.device)


class _Single(nn.Module):
    """``net(x)`` with one named input, returning one tensor."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f'export needs a network returning one tensor, '
                            f'{type(self.net).__name__} returned '
                            f'{type(out).__name__}')
        return out


class PackedInputs(nn.Module):
    """A network of several same-size image inputs as a one-tensor network:
    ``forward(x)`` splits the channels of ``x`` into the inputs, e.g.
    DCNAS ``net(lr_up, rgb)``: ``channels=(1, 3)``; HQS ``net(y,
    kernel=k)`` with the kernel centred in an H x W plane:
    ``channels=(1, 1)``, ``names=(None, 'kernel')``.

    Args:
        net (nn.Module): the network.
        channels (Sequence[int]): channels of every input, in order.
        names (Sequence[str | None], optional): keyword of every input
            (None: positional). Defaults to all positional.
    """

    def __init__(self,
                 net: nn.Module,
                 channels: Sequence[int],
                 names: Optional[Sequence[Optional[str]]] = None) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if not channels or min(channels) < 1:
            raise ValueError(f'PackedInputs: channels must be positive, got '
                             f'{channels}')
        names = tuple(names) if names is not None else (None, ) * len(
            channels)
        if len(names) != len(channels):
            raise ValueError(f'PackedInputs: {len(names)} names for '
                             f'{len(channels)} inputs')
        self.net = net
        self.channels = channels
        self.names = names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != sum(self.channels):
            raise ValueError(f'PackedInputs: expected (N, '
                             f'{sum(self.channels)}, H, W) = inputs of '
                             f'{self.channels} channels, got '
                             f'{tuple(x.shape)}')
        args, kwargs = [], {}
        for part, name in zip(torch.split(x, self.channels, 1), self.names):
            if name is None:
                args.append(part)
            else:
                kwargs[name] = part
        return self.net(*args, **kwargs)


def export_network(net: nn.Module,
                   example: torch.Tensor,
                   out_file: str,
                   fmt: str = 'onnx',
                   dynamic: bool = True,
                   opset: int = 18,
                   prelu_as_leaky: bool = True) -> str:
    """Export an image network (one tensor in, one out), atomically.

    Args:
        net (nn.Module): the eval-mode network (e.g. ``core_network(model)``).
        example (Tensor): an example input ``(N, C, H, W)``.
        out_file (str): the file to write.
        fmt (str): ``'onnx'`` or ``'torch_export'``. Defaults to 'onnx'.
        dynamic (bool): batch, height and width dynamic. Defaults to True.
        opset (int): ONNX opset. Defaults to 18.
        prelu_as_leaky (bool): ONNX only: export a copy whose single-slope
            PReLUs are LeakyReLUs (which ONNX Runtime fuses with convs).
            Defaults to True.

    Returns:
        str: ``out_file``.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f'fmt must be one of {sorted(EXPORT_FORMATS)}, '
                         f'got {fmt!r}')
    if fmt == 'onnx' and prelu_as_leaky and any(
            map(is_single_slope_prelu, net.modules())):
        net = copy.deepcopy(net)
        prelu_to_leaky_relu(net)
    wrapped = _Single(net).eval()
    if dynamic and example.dim() != 4:
        raise ValueError(f'export expects an (N, C, H, W) example, got shape '
                         f'{tuple(example.shape)}')
    dim = torch.export.Dim.DYNAMIC
    shapes = {'x': {0: dim, 2: dim, 3: dim}} if dynamic else None
    if dynamic and example.shape[0] == 1:
        # a size-1 dimension is specialised by the tracer (0/1 rule)
        example = example.expand(2, *example.shape[1:]).contiguous()
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=out_dir, prefix='.export-', suffix=EXPORT_FORMATS[fmt])
    os.close(fd)
    try:
        with torch.no_grad():
            if fmt == 'torch_export':
                program = torch.export.export(
                    wrapped, (example, ), dynamic_shapes=shapes)
                torch.export.save(program, tmp)
            else:
                torch.onnx.export(
                    wrapped, (example, ),
                    tmp,
                    input_names=['x'],
                    output_names=['y'],
                    dynamic_shapes=shapes,
                    opset_version=opset,
                    dynamo=True,
                    external_data=False,
                    verbose=False)
        os.replace(tmp, out_file)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return out_file


class ExportedRunner:
    """Run an exported file: ONNX through ONNX Runtime (CPU), ``.pt2``
    through ``torch.export.load``.

    Args:
        path (str): ``.onnx`` or ``.pt2`` file.
        threads (int, optional): ONNX Runtime intra-op threads (None: its
            default).
    """

    def __init__(self, path: str, threads: Optional[int] = None) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'exported model not found: {path}')
        self.path = path
        if path.endswith('.onnx'):
            try:
                import onnxruntime as ort
            except ImportError as err:  # pragma: no cover - optional dep
                raise ImportError(
                    'ONNX Runtime is needed (pip install onnxruntime '
                    'onnxscript; see requirements/tests.txt)') from err
            opts = ort.SessionOptions()
            if threads:
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                path, opts, providers=['CPUExecutionProvider'])
            self.program = None
        elif path.endswith('.pt2'):
            self.session = None
            self.program = torch.export.load(path).module()
        else:
            raise ValueError(f'{path}: expected a .onnx or .pt2 file')

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.session is not None:
            out = self.session.run(None, {'x': x.detach().cpu().numpy()})[0]
            return torch.from_numpy(np.asarray(out))
        with torch.no_grad():
            return self.program(x)


def compare_outputs(reference: nn.Module, runner,
                    inputs: Sequence[torch.Tensor]) -> Dict[str, float]:
    """``dict(max_abs_diff=, num_inputs=)`` of ``runner`` (e.g. an
    :class:`ExportedRunner`) against the eager ``reference`` on
    ``inputs``."""
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            ref = reference(x)
            out = runner(x)
            if out.shape != ref.shape:
                raise ValueError(f'exported output shape {tuple(out.shape)} '
                                 f'!= eager {tuple(ref.shape)} for input '
                                 f'{tuple(x.shape)}')
            worst = max(worst, (out.float() - ref.float()).abs().max().item())
    return dict(max_abs_diff=worst, num_inputs=len(inputs))
