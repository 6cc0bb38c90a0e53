"""The hook that puts the CPU kernels into the model a runner trains or
tests, when a config asks for it by name."""
from typing import Mapping, Optional

from mmengine.hooks import Hook

from mmfusenas.registry import HOOKS
from mmfusenas.utils.distributed import unwrap
from .allocator import configure_cpu_allocator
from .switches import check_switches, set_cpu_kernels
from .transform import apply_cpu_kernels


@HOOKS.register_module()
class CpuKernelsHook(Hook):
    """Apply :func:`~cpu_kernels.apply_cpu_kernels` to the runner's model
    before the run (training, validation and testing); the switches hold
    for the run and are restored after it.

    Args:
        training (bool): also put the fast training path on the fusion
            network of compound fusion models; False swaps in the
            inference kernels only. Defaults to True.
        switches (dict, optional): kernel switches for the process
            (:func:`~cpu_kernels.switches.set_cpu_kernels`, e.g.
            ``dict(winograd=False)``); unknown names are refused here.
        cpu_malloc (dict, optional): arguments of
            :func:`~cpu_kernels.allocator.configure_cpu_allocator` (glibc's
            mmap / trim thresholds); None leaves the allocator as it is.

    Raises:
        RuntimeError: at the start of the run, when the model is not on the
            CPU (the kernels are CPU kernels).
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 training: bool = True,
                 switches: Optional[Mapping[str, bool]] = None,
                 cpu_malloc: Optional[Mapping[str, int]] = None) -> None:
        self.training = training
        self.switches = dict(switches or {})
        check_switches(self.switches, 'CpuKernelsHook switches')
        self.cpu_malloc = dict(cpu_malloc or {})
        self._previous = None

    def before_run(self, runner) -> None:
        model = unwrap(runner.model)
        if self.switches:
            self._previous = set_cpu_kernels(**self.switches)
        if self.cpu_malloc and not configure_cpu_allocator(
                **self.cpu_malloc):
            runner.logger.info('CpuKernelsHook: no glibc here, allocator '
                               'unchanged')
        runner.logger.info(str(apply_cpu_kernels(model, self.training)))

    def after_run(self, runner) -> None:
        if self._previous is not None:
            set_cpu_kernels(**self._previous.as_dict())
            self._previous = None
