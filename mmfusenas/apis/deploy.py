"""Optimised inference (``optimize=`` of :func:`mmfusenas.apis.init_model`,
``--optimize`` of the tools) and export of the core image network to ONNX
or ``torch.export`` (``tools/deployment/export.py``); see
``docs/user_guides/deployment.md``."""
import copy
import io
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from mmfusenas.utils.batchnorm_folding import fold_batchnorm
from mmfusenas.utils.fileio import atomic_write

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
    if isinstance(optimize, str):
        optimize = [s.strip() for s in optimize.split(',') if s.strip()]
    names = set(optimize or ())
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
        if isinstance(getattr(model, attr, None), nn.Module):
            return attr, getattr(model, attr)
    return '', model


def optimize_for_inference(model: nn.Module,
                           optimize: Optimize,
                           verbose: bool = True) -> nn.Module:
    """Apply inference optimisations (:func:`parse_optimize`) to an
    eval-mode model or bare network, in place; ``compile`` / ``onnxruntime``
    replace its core network (a bare network is returned wrapped).
    ``verbose`` prints what was folded / swapped."""
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
        wrapped = (torch.compile(net, dynamic=True) if 'compile' in names
                   else OnnxRuntimeNetwork(net))
        if not attr:
            return wrapped
        setattr(model, attr, wrapped)
    model.inference_optimizations = names
    return model


def prelu_to_leaky_relu(model: nn.Module) -> List[str]:
    """Replace every one-slope ``nn.PReLU`` (exactly, or a subclass
    declaring ``same_function_as_prelu``) by the equal ``nn.LeakyReLU``, in
    place, and return their names: ONNX Runtime fuses ``Conv`` +
    ``LeakyRelu``, not ``Conv`` + ``PRelu``. The slope is copied."""
    replaced = []
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.PReLU) and child.num_parameters == 1 and (
                    type(child) is nn.PReLU
                    or getattr(type(child), 'same_function_as_prelu', False)):
                setattr(parent, name, nn.LeakyReLU(child.weight.item()))
                replaced.append(f'{parent_name}.{name}'.lstrip('.'))
    return replaced


class PackedInputs(nn.Module):
    """A network of several same-size image inputs as a one-tensor network:
    ``forward(x)`` splits the channels of ``x`` into the inputs, positional
    or named by ``names`` (e.g. DCNAS ``net(lr_up, rgb)``: ``channels=(1,
    3)``; HQS ``net(y, kernel=k)``, the kernel centred in an H x W plane:
    ``channels=(1, 1)``, ``names=(None, 'kernel')``)."""

    def __init__(self,
                 net: nn.Module,
                 channels: Sequence[int],
                 names: Optional[Sequence[Optional[str]]] = None) -> None:
        super().__init__()
        self.net = net
        self.channels = tuple(int(c) for c in channels)
        self.names = tuple(names or (None, ) * len(self.channels))
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f'PackedInputs: channels must be positive, got '
                             f'{self.channels}')
        if len(self.names) != len(self.channels):
            raise ValueError(f'PackedInputs: {len(self.names)} names for '
                             f'{len(self.channels)} inputs')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != sum(self.channels):
            raise ValueError(f'PackedInputs: expected (N, '
                             f'{sum(self.channels)}, H, W) = inputs of '
                             f'{self.channels} channels, got '
                             f'{tuple(x.shape)}')
        parts = torch.split(x, self.channels, 1)
        return self.net(
            *[p for p, n in zip(parts, self.names) if n is None],
            **{n: p for p, n in zip(parts, self.names) if n is not None})


def _export(net: nn.Module, example: torch.Tensor, fmt: str = 'onnx',
            dynamic: bool = True, opset: int = 18,
            prelu_as_leaky: bool = True) -> bytes:
    """The file :func:`export_network` writes, as bytes."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f'fmt must be one of {sorted(EXPORT_FORMATS)}, '
                         f'got {fmt!r}')
    if dynamic and example.dim() != 4:
        raise ValueError(f'export expects an (N, C, H, W) example, got shape '
                         f'{tuple(example.shape)}')
    if fmt == 'onnx' and prelu_as_leaky:
        net = copy.deepcopy(net)
        prelu_to_leaky_relu(net)
    net.eval()
    shapes = None
    if dynamic:
        dim = torch.export.Dim.DYNAMIC
        shapes = ({0: dim, 2: dim, 3: dim}, )
        # a size-1 dimension is specialised by the tracer (0/1 rule)
        example = example.expand(max(2, len(example)), *example.shape[1:])
    args, buf = (example.contiguous(), ), io.BytesIO()
    with torch.no_grad():
        if fmt == 'onnx':
            return torch.onnx.export(
                net,
                args,
                input_names=['x'],
                output_names=['y'],
                dynamic_shapes=shapes,
                opset_version=opset,
                dynamo=True,
                verbose=False).model_proto.SerializeToString()
        program = torch.export.export(net, args, dynamic_shapes=shapes)
    torch.export.save(program, buf)
    return buf.getvalue()


def export_network(net: nn.Module,
                   example: torch.Tensor,
                   out_file: str,
                   fmt: str = 'onnx',
                   dynamic: bool = True,
                   opset: int = 18,
                   prelu_as_leaky: bool = True) -> str:
    """Export an eval-mode image network (one tensor in, one out) to
    ``out_file``, atomically, and return ``out_file``.

    Args:
        net (nn.Module): the network (e.g. ``core_network(model)[1]``).
        example (Tensor): an example input ``(N, C, H, W)``.
        out_file (str): the file to write.
        fmt (str): ``'onnx'`` or ``'torch_export'``. Defaults to 'onnx'.
        dynamic (bool): batch, height and width dynamic. Defaults to True.
        opset (int): ONNX opset. Defaults to 18.
        prelu_as_leaky (bool): ONNX: one-slope PReLUs written as LeakyReLUs
            (:func:`prelu_to_leaky_relu` on a copy). Defaults to True.
    """
    atomic_write(
        _export(net, example, fmt, dynamic, opset, prelu_as_leaky), out_file)
    return out_file


def ort_session(onnx: Union[str, bytes], threads: Optional[int] = None):
    """An ONNX Runtime CPU session of a ``.onnx`` file or its bytes
    (``threads`` intra-op threads; None: ONNX Runtime's default)."""
    try:
        import onnxruntime as ort
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError('ONNX Runtime is needed (pip install '
                          'onnxruntime onnxscript)') from err
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    return ort.InferenceSession(onnx, opts,
                                providers=['CPUExecutionProvider'])


class OnnxRuntimeNetwork(nn.Module):
    """An image network (one ``(N, C, H, W)`` tensor in, one out) exported
    to ONNX at the first call (dynamic sizes) and run by ONNX Runtime with
    ``torch.get_num_threads()`` threads; the eager network stays as
    ``.net``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.session = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise TypeError('OnnxRuntimeNetwork takes one (N, C, H, W) '
                            'tensor (wrap several inputs in PackedInputs)')
        if self.session is None:
            self.session = ort_session(_export(self.net, x.detach().cpu()),
                                       torch.get_num_threads())
        out = self.session.run(None, {'x': x.detach().cpu().numpy()})[0]
        return torch.from_numpy(np.asarray(out)).to(x.device)
