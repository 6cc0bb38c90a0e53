"""Optimised inference (``optimize=`` of :func:`mmfusenas.apis.init_model`,
``--optimize`` of the tools) and export of the core image network to ONNX
or ``torch.export`` (``tools/deployment/export.py``); see
``docs/user_guides/deployment.md``."""
import copy
import importlib
import io
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from mmfusenas.models.utils.batchnorm_folding import fold_batchnorm
from mmfusenas.utils.fileio import atomic_write

#: built-in inference optimisations, in the order they are applied (a
#: plugin's run after the in-place ones, before compile / onnxruntime)
OPTIMIZATIONS = ('fold_bn', 'channels_last', 'compile', 'onnxruntime')
#: optimisations of plugins: name -> ``apply(model)`` (its report is printed
#: when not empty), added by :func:`register_optimization`
PLUGIN_OPTIMIZATIONS: Dict[str, Callable[[nn.Module], object]] = {}
#: what ``'all'`` expands to (``onnxruntime`` replaces ``compile``)
ALL_OPTIMIZATIONS = ('fold_bn', 'channels_last', 'compile')
#: export formats -> file suffix
EXPORT_FORMATS = {'onnx': '.onnx', 'torch_export': '.pt2'}

Optimize = Union[None, str, Sequence[str]]


def register_optimization(name: str, apply: Callable[[nn.Module], object]
                          ) -> Callable[[nn.Module], object]:
    """Make ``name`` an inference optimisation (``optimize=name``) that
    calls ``apply(model)`` in place; a plugin calls it when imported (e.g.
    ``projects/cpu_kernels``)."""
    if name in OPTIMIZATIONS or name in ('all', 'none'):
        raise ValueError(f'{name!r} is a built-in inference optimisation')
    PLUGIN_OPTIMIZATIONS[name] = apply
    return apply


def _plugin_optimization(name: str) -> Callable[[nn.Module], object]:
    """The ``apply`` of a plugin's optimisation; a name not registered yet
    is imported as the plugin package of that name (as ``custom_imports``
    of a config would), which registers it."""
    if name not in PLUGIN_OPTIMIZATIONS:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ImportError(
                f'optimize {name}: not a built-in optimisation '
                f'{OPTIMIZATIONS}, and the plugin package {name!r} is not on '
                'the Python path (e.g. PYTHONPATH=projects/cpu_kernels; see '
                f'its README): {err}') from None
    if name not in PLUGIN_OPTIMIZATIONS:
        raise ValueError(f'optimize {name}: the package {name!r} registers '
                         'no inference optimisation (register_optimization)')
    return PLUGIN_OPTIMIZATIONS[name]


def parse_optimize(optimize: Optimize) -> Tuple[str, ...]:
    """The names of None, ``'none'``, ``'all'``, a comma-separated string or
    a sequence of names, in the order they are applied: the in-place
    built-ins, plugins' (any other name, see :func:`register_optimization`),
    then ``compile`` / ``onnxruntime``."""
    if isinstance(optimize, str):
        optimize = [s.strip() for s in optimize.split(',') if s.strip()]
    names = list(dict.fromkeys(optimize or ()))
    if set(names) <= {'none'}:
        return ()
    if 'all' in names:
        names = [n for n in names if n != 'all'] + list(ALL_OPTIMIZATIONS)
    plugins = [n for n in names if n not in OPTIMIZATIONS]
    bad = [n for n in plugins if not re.fullmatch(r'[A-Za-z_][\w.]*', n)]
    if bad:
        raise ValueError(f'unknown inference optimisation(s) {bad}; choose '
                         f"from {OPTIMIZATIONS}, 'all', 'none' or a plugin's "
                         '(a package name)')
    if {'compile', 'onnxruntime'} <= set(names):
        raise ValueError('compile and onnxruntime exclude each other (both '
                         'replace the core network)')
    return tuple([n for n in OPTIMIZATIONS[:2] if n in names] + plugins +
                 [n for n in OPTIMIZATIONS[2:] if n in names])


def add_optimize_argument(parser) -> None:
    """Add the tools' ``--optimize NAMES`` option to ``parser``."""
    parser.add_argument(
        '--optimize', metavar='NAMES',
        help='comma-separated inference optimisations: fold_bn, '
        "channels_last, compile, onnxruntime, a plugin's (cpu_kernels), "
        "'all' or 'none' (default); see docs/user_guides/deployment.md")


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
    for name in names:
        if name in OPTIMIZATIONS:
            continue
        report = _plugin_optimization(name)(model)
        if verbose and report:
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


def export_network(net: nn.Module,
                   example: torch.Tensor,
                   out_file: Optional[str] = None,
                   fmt: str = 'onnx',
                   dynamic: bool = True,
                   opset: int = 18,
                   prelu_as_leaky: bool = True) -> Union[str, bytes]:
    """Export an eval-mode image network (one tensor in, one out) traced
    on an ``(N, C, H, W)`` ``example`` as ``fmt`` (``'onnx'`` or
    ``'torch_export'``; ``dynamic``: any batch, height and width); writes
    ``out_file`` atomically and returns it (None: returns the bytes).
    ``prelu_as_leaky``: one-slope PReLUs exported as LeakyReLUs (ONNX)."""
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
            data = torch.onnx.export(
                net, args, input_names=['x'], output_names=['y'],
                dynamic_shapes=shapes, opset_version=opset, dynamo=True,
                verbose=False).model_proto.SerializeToString()
        else:
            torch.export.save(
                torch.export.export(net, args, dynamic_shapes=shapes), buf)
            data = buf.getvalue()
    if out_file is None:
        return data
    atomic_write(data, out_file)
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
    ``torch.get_num_threads()`` threads (or run by the ONNX Runtime
    ``session`` given); the eager network stays as ``.net``."""

    def __init__(self, net: Optional[nn.Module], session=None) -> None:
        super().__init__()
        self.net, self.session = net, session

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise TypeError('OnnxRuntimeNetwork takes one (N, C, H, W) '
                            'tensor (wrap several inputs in PackedInputs)')
        if self.session is None:
            self.session = ort_session(
                export_network(self.net, x.detach().cpu()),
                torch.get_num_threads())
        out = self.session.run(None, {'x': x.detach().cpu().numpy()})[0]
        return torch.from_numpy(np.asarray(out)).to(x.device)
