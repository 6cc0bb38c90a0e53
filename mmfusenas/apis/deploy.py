"""Optimised inference and export of the image networks (deployment).

Inference switches, each optional and combinable (``optimize=`` of
:func:`mmfusenas.apis.init_model`, ``--optimize`` of ``tools/fuse.py`` and
``tools/enhance.py``; see ``docs/user_guides/deployment.md``):
``cpu_kernels`` (the plugin ``projects/cpu_kernels``), ``fold_bn``
(:func:`mmfusenas.utils.fold_batchnorm`), ``channels_last``, ``compile``
(``torch.compile`` of the core network) and ``onnxruntime`` (the core
network exported to ONNX and run by :class:`OnnxRuntimeNetwork`; not
combinable with ``compile``); :func:`optimize_for_inference` applies them.

Export (:func:`export_network`, ``tools/deployment/export.py``): the core
network, tensor in and tensor out, to ONNX or to a ``torch.export`` program
(``.pt2``), with dynamic height and width, checked against eager.
"""
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
#: the ``--optimize`` default of the inference tools: the plain model
DEFAULT_TOOL_OPTIMIZE = None
#: what ``'all'`` expands to (``onnxruntime`` replaces ``compile``)
ALL_OPTIMIZATIONS = ('fold_bn', 'channels_last', 'compile')
#: attribute of the core image network, by model family
CORE_NETWORK_ATTRS = ('fusion_net', 'network')
#: export formats -> file suffix
EXPORT_FORMATS = {'onnx': '.onnx', 'torch_export': '.pt2'}

Optimize = Union[None, str, Sequence[str]]


def parse_optimize(optimize: Optimize) -> Tuple[str, ...]:
    """Normalise an optimisation spec.

    Args:
        optimize (None | str | Sequence[str]): None / ``''`` / ``'none'``
            for eager; ``'all'`` (:data:`ALL_OPTIMIZATIONS`); a name of
            :data:`OPTIMIZATIONS`, a comma-separated list of them or a
            sequence.

    Returns:
        tuple[str]: the names, in :data:`OPTIMIZATIONS` order.

    Raises:
        ValueError: an unknown name, or ``compile`` with ``onnxruntime``.
    """
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
    """The ``--optimize NAMES`` option of the inference tools (default
    :data:`DEFAULT_TOOL_OPTIMIZE`).

    Args:
        parser (argparse.ArgumentParser): the tool's parser.
    """
    parser.add_argument(
        '--optimize',
        default=DEFAULT_TOOL_OPTIMIZE,
        metavar='NAMES',
        help='inference optimisations, comma-separated: fold_bn (BatchNorm '
        'folded into the convs), channels_last, compile (torch.compile), '
        'onnxruntime (the network exported to ONNX and run by ONNX '
        'Runtime), cpu_kernels (the CPU kernels of the plugin '
        "projects/cpu_kernels, on PYTHONPATH), 'all' (= fold_bn,"
        "channels_last,compile) or 'none'; default: the plain model; see "
        'docs/user_guides/deployment.md')


def core_network(model: nn.Module) -> Tuple[str, nn.Module]:
    """The image network of a model: ``(attribute, module)``.

    A bare network (no :data:`CORE_NETWORK_ATTRS` attribute) is its own
    core (attribute ``''``).
    """
    for attr in CORE_NETWORK_ATTRS:
        net = getattr(model, attr, None)
        if isinstance(net, nn.Module):
            return attr, net
    return '', model


def optimize_for_inference(model: nn.Module,
                           optimize: Optimize,
                           verbose: bool = True) -> nn.Module:
    """Apply inference optimisations to an eval-mode model, in place.

    Args:
        model (nn.Module): a model from :func:`init_model` (or a bare
            network), in eval mode.
        optimize: see :func:`parse_optimize`.
        verbose (bool): print what was folded / left. Defaults to True.

    Returns:
        nn.Module: ``model`` (with ``compile`` its core network is replaced
        by the compiled module; a bare network is returned compiled).

    Raises:
        ValueError: the model is in training mode.
    """
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
    """An image network run by ONNX Runtime (CPU), exported at first call.

    The first call exports ``net`` (:func:`export_network`, dynamic batch,
    height and width) to a temporary file and opens an ONNX Runtime
    session with ORT's default graph optimisations (``ORT_ENABLE_ALL``,
    NCHWc layout transforms included) and ``torch.get_num_threads()``
    intra-op threads (read at that call); every call then runs the session
    and returns a float tensor on the input's device. The eager network
    stays available as ``.net``.

    Args:
        net (nn.Module): eval-mode network, one ``(N, C, H, W)`` tensor in
            and one out (:class:`PackedInputs` for several inputs).
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.session = None

    def _open(self, x: torch.Tensor) -> None:
        try:
            import onnxruntime as ort
        except ImportError as err:  # pragma: no cover - optional dep
            raise ImportError(
                "optimize='onnxruntime' needs onnxruntime and onnxscript "
                '(pip install onnxruntime onnxscript; see '
                'requirements/tests.txt)') from err
        with tempfile.TemporaryDirectory() as tmp:
            path = export_network(self.net, x.detach().cpu(),
                                  osp.join(tmp, 'net.onnx'))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = torch.get_num_threads()
            opts.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                path, opts, providers=['CPUExecutionProvider'])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise TypeError('OnnxRuntimeNetwork takes one (N, C, H, W) '
                            'tensor (wrap several inputs in PackedInputs)')
        if self.session is None:
            self._open(x)
        out = self.session.run(None, {'x': x.detach().cpu().numpy()})[0]
        return torch.from_numpy(np.asarray(out)).to(x.device)


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------
def _dynamic_shapes(example: torch.Tensor) -> dict:
    if example.dim() != 4:
        raise ValueError(f'export expects an (N, C, H, W) example, got shape '
                         f'{tuple(example.shape)}')
    dim = torch.export.Dim.DYNAMIC
    return {'x': {0: dim, 2: dim, 3: dim}}


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
    """A network of several same-size image inputs as a one-tensor network.

    ``forward(x)`` splits the channels of one ``(N, sum(channels), H, W)``
    tensor into the network's inputs, in order: positional arguments, or
    keyword arguments where ``names`` gives a name. This is how
    :func:`export_network`, ``bench_inference.py`` and ONNX Runtime run
    e.g. DCNAS (``net(lr_up, rgb)``: ``channels=(1, 3)``) or unrolled HQS
    with its blur kernel centred in an H x W plane (``net(y,
    kernel=k)``: ``channels=(1, 1)``, ``names=(None, 'kernel')``; the OTF
    of a centred zero-padded kernel is the kernel's own).

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
        prelu_as_leaky (bool): ONNX only: export a copy of ``net`` whose
            single-slope PReLUs are LeakyReLUs of the same slope
            (:func:`mmfusenas.utils.prelu_to_leaky_relu`; the same function,
            but ONNX Runtime fuses ``Conv`` + ``LeakyRelu`` into one kernel
            and not ``Conv`` + ``PRelu``). ``net`` itself is not changed.
            Defaults to True.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: unknown ``fmt``.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f'fmt must be one of {sorted(EXPORT_FORMATS)}, '
                         f'got {fmt!r}')
    if fmt == 'onnx' and prelu_as_leaky and any(
            map(is_single_slope_prelu, net.modules())):
        net = copy.deepcopy(net)
        prelu_to_leaky_relu(net)
    wrapped = _Single(net).eval()
    shapes = _dynamic_shapes(example) if dynamic else None
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
    """

    def __init__(self, path: str) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'exported model not found: {path}')
        self.path = path
        if path.endswith('.onnx'):
            try:
                import onnxruntime as ort
            except ImportError as err:  # pragma: no cover - optional dep
                raise ImportError(
                    'running an ONNX export needs onnxruntime (pip install '
                    'onnxruntime; see requirements/tests.txt)') from err
            self.session = ort.InferenceSession(
                path, providers=['CPUExecutionProvider'])
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
    """Largest absolute difference between eager and ``runner`` outputs.

    Args:
        reference (nn.Module): the eager network.
        runner: callable ``x -> Tensor`` (e.g. :class:`ExportedRunner`).
        inputs (Sequence[Tensor]): inputs, possibly of different sizes.

    Returns:
        dict: ``max_abs_diff`` over all inputs and ``num_inputs``.
    """
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
