"""The switches of the CPU kernels: one settings object for the process.

The toolbox computes some operators with its own CPU kernels instead of
ATen's / oneDNN's (compiled numba passes, Winograd and direct
convolutions, products on pixel pairs, ...). Each has a switch here, all
on by default; switching one off keeps the path it replaces (ATen's
operator, the authors' summation order, ...), e.g. for a parity check or
a before / after timing. The kernels read the switches at call time with
:func:`get_cpu_kernels` (one attribute lookup, no environment access).

Set them

- in a config: ``switches=dict(winograd=False)`` of
  :class:`~cpu_kernels.hook.CpuKernelsHook`;
- in a program: :func:`set_cpu_kernels` (for the process) or the context
  manager :func:`cpu_kernels` (for a block; the previous settings come
  back after it, also on an exception), e.g. in tests and benchmarks.

The settings are process-wide (every thread reads the same object). A
process started later (a ``spawn`` worker, a tool run as a subprocess)
starts with the defaults; pass the switches on through its config.
"""
import contextlib
import dataclasses
from typing import Any, Iterator, Mapping

__all__ = [
    'CpuKernels', 'SWITCHES', 'get_cpu_kernels', 'set_cpu_kernels',
    'cpu_kernels', 'check_switches',
    'UnknownSwitchError'
]


@dataclasses.dataclass(frozen=True)
class CpuKernels:
    """The switches (True: the toolbox's kernel is used where it applies;
    False: the path it replaces). Immutable; :func:`set_cpu_kernels` makes
    a new one.

    Attributes:
        numba (bool): every compiled (numba) kernel of this plugin;
            False keeps the torch paths.
        winograd (bool): Winograd F(4x4, 3x3) convolutions at inference
            (:mod:`cpu_kernels.winograd_conv`); False keeps
            oneDNN's.
        direct_conv (bool): the direct few-channel convolutions of the
            RUAS networks (:mod:`cpu_kernels.direct_conv`); False
            keeps ATen's (the authors' values bit for bit).
        grouped_conv (bool): the compiled grouped 3 x 3 convolutions with
            one output per group (:mod:`cpu_kernels.grouped_conv`);
            False keeps ATen's.
        tap_products (bool): convolutions to few channels as one product
            over the taps (:mod:`cpu_kernels.tap_product_conv`);
            False keeps oneDNN's.
        paired_products (bool): the 1 x 1 products on pixel pairs in
            training (:class:`cpu_kernels.fast_training.PointwiseConv2d`);
            False keeps ``F.linear``.
        separable_filter (bool): the compiled separable filters of the
            models' losses (:mod:`cpu_kernels.separable_filter`);
            False keeps the convolutions.
        channels_last (bool): the channels-last layout at inference
            (:func:`~cpu_kernels.blocked_conv_chain.
            channels_last_at_inference`); False keeps NCHW (the authors'
            summation order).
        commuted_upsampling (bool): ``ResidualUpSample``'s 1 x 1
            convolution before the bilinear up-sampling on channels-last
            maps; False keeps the official order.
    """
    numba: bool = True
    winograd: bool = True
    direct_conv: bool = True
    grouped_conv: bool = True
    tap_products: bool = True
    paired_products: bool = True
    separable_filter: bool = True
    channels_last: bool = True
    commuted_upsampling: bool = True

    def as_dict(self) -> dict:
        """``{switch: value}``."""
        return dataclasses.asdict(self)


#: the names of the switches, in declaration order
SWITCHES = tuple(f.name for f in dataclasses.fields(CpuKernels))

#: the settings in force (replaced, never mutated: read it through
#: :func:`get_cpu_kernels`)
_CURRENT = CpuKernels()


class UnknownSwitchError(KeyError):
    """A switch name :class:`CpuKernels` does not have (the message names
    it and the valid ones)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ''


def get_cpu_kernels() -> CpuKernels:
    """The settings in force."""
    return _CURRENT


def check_switches(switches: Mapping[str, Any],
                   what: str = 'cpu_kernels') -> dict:
    """``switches`` as a dict, checked: every name a switch, every value
    a bool.

    Raises:
        UnknownSwitchError: (a ``KeyError``) a name that is no switch; the
            message, prefixed with ``what``, names it and the valid ones.
        TypeError: a value that is not a bool.
    """
    unknown = [k for k in switches if k not in SWITCHES]
    if unknown:
        raise UnknownSwitchError(
            f'{what}: unknown switch{"es" if len(unknown) > 1 else ""} '
            f'{", ".join(map(repr, unknown))}; the valid ones are '
            f'{", ".join(SWITCHES)}')
    for key, value in switches.items():
        if not isinstance(value, bool):
            raise TypeError(f'{what}: {key} must be True or False, got '
                            f'{value!r}')
    return dict(switches)


def set_cpu_kernels(**switches: bool) -> CpuKernels:
    """Set the named switches for the process (the others keep their
    value); returns the settings in force before.

    Raises:
        UnknownSwitchError: (a ``KeyError``) a name that is no switch.
        TypeError: a value that is not a bool.
    """
    global _CURRENT
    previous = _CURRENT
    changes = check_switches(switches, 'set_cpu_kernels')
    if changes:
        _CURRENT = dataclasses.replace(previous, **changes)
    return previous


@contextlib.contextmanager
def cpu_kernels(**switches: bool) -> Iterator[CpuKernels]:
    """Set the named switches for the block and restore the settings of
    before it afterwards (also on an exception, and whatever the block set
    meanwhile). Yields the settings in force in the block.

    Example::

        with cpu_kernels(winograd=False, numba=False):
            out = net(x)    # ATen's / oneDNN's paths
    """
    global _CURRENT
    previous = set_cpu_kernels(**switches)
    try:
        yield _CURRENT
    finally:
        _CURRENT = previous
