"""Memory-layout predicates shared by the CPU operators of this folder."""
import torch


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether ``x`` is a 4-D tensor laid out channels-last and not also
    contiguous (a map with several channels in NHWC order)."""
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
        memory_format=torch.channels_last)


__all__ = ['is_channels_last']
