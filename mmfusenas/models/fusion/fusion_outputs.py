"""Named outputs of a fusion network, and the losses that read them.

A network with intermediate images declares ``output_names`` (returned by
``forward(inputs, return_all=True)``) and ``main_output``; a fusion loss
reads the output named by its ``output`` attribute (default ``'fused'``).
"""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn

#: the name of a fusion network's main output (what ``net(inputs)`` returns)
MAIN_OUTPUT = 'fused'

FusionOutputs = Dict[str, torch.Tensor]


def loss_output(loss: nn.Module) -> str:
    """The output a fusion loss reads (``'fused'`` when it names none)."""
    return getattr(loss, 'output', MAIN_OUTPUT)


def check_loss_outputs(net: nn.Module, losses: Sequence[nn.Module],
                       owner: str) -> bool:
    """Check that ``net`` provides every output the ``losses`` read.

    Returns:
        bool: whether some loss reads an output other than ``'fused'``.

    Raises:
        ValueError: a loss reads an output the network does not declare.
    """
    wanted = {loss.loss_name: loss_output(loss) for loss in losses}
    branch = {k: v for k, v in wanted.items() if v != MAIN_OUTPUT}
    if not branch:
        return False
    names = tuple(getattr(net, 'output_names', ()))
    bad = {k: v for k, v in branch.items() if v not in names}
    if bad:
        raise ValueError(
            f'{owner}: the losses {sorted(bad)} read the outputs '
            f'{sorted(set(bad.values()))}, but {type(net).__name__} only has '
            f"{(MAIN_OUTPUT, ) + names} (a network with named outputs "
            'declares output_names and returns them with return_all=True, '
            'e.g. TIMTwoStageFusionNet)')
    return True


def check_fused_image(image: torch.Tensor,
                      sources: torch.Tensor,
                      owner: str,
                      name: str = MAIN_OUTPUT) -> torch.Tensor:
    """``image``, checked to be ``(N, 1, H, W)`` for ``(N, M, H, W)``
    sources."""
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or \
            image.shape[1] != 1 or image.shape[0] != sources.shape[0] or \
            image.shape[-2:] != sources.shape[-2:]:
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else \
            type(image).__name__
        raise ValueError(
            f'{owner}: a fusion network must map (N, M, H, W) to (N, 1, H, '
            f'W), got {tuple(sources.shape)} -> {got} (output {name!r})')
    return image


def run_fusion_outputs(net: nn.Module, sources: torch.Tensor,
                       return_all: bool, owner: str) -> FusionOutputs:
    """Run a fusion network; ``{'fused': main output}`` (+ declared outputs
    with ``return_all``), each ``(N, 1, H, W)``.
    """
    if not return_all:
        fused = net(sources)
        check_fused_image(fused, sources, owner, MAIN_OUTPUT)
        return {MAIN_OUTPUT: fused}
    out = net(sources, return_all=True)
    names = tuple(getattr(net, 'output_names', ()))
    if not isinstance(out, dict) or set(out) != set(names):
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        raise ValueError(f'{owner}: {type(net).__name__}(return_all=True) '
                         f'must return a dict with keys {names}, got {got}')
    outputs = dict(out)
    outputs[MAIN_OUTPUT] = out[net.main_output]
    for name, image in outputs.items():
        check_fused_image(image, sources, owner, name)
    return outputs


def fusion_loss_values(losses: Sequence[nn.Module], outputs: FusionOutputs,
                       sources: torch.Tensor) -> Dict[str, torch.Tensor]:
    """``{loss_name: loss(outputs[loss.output], sources)}`` (unweighted by
    a model-level weight such as TIM's η)."""
    return {
        loss.loss_name: loss(outputs[loss_output(loss)], sources)
        for loss in losses
    }


__all__: Tuple[str, ...] = ('MAIN_OUTPUT', 'check_fused_image',
                            'check_loss_outputs',
                            'fusion_loss_values', 'loss_output',
                            'run_fusion_outputs')
