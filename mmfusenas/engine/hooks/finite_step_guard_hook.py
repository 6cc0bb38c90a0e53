"""Refuse optimizer steps on non-finite gradients.

A finite loss can still have NaN / Inf gradients, which the loss checks of
the models and search algorithms do not see. :class:`FiniteStepGuardHook`
registers a ``step`` pre-hook on every optimizer of the runner's optimizer
wrapper (plain, AMP or an ``OptimWrapperDict``), so it guards any model,
search algorithm and strategy unchanged. On a non-finite gradient,
``action='raise'`` (default) raises :class:`FloatingPointError` naming the
optimizer, the iteration, the parameters and the batch's samples;
``action='skip'`` drops that step's gradients (at most
``max_consecutive_skips`` in a row). In a distributed run every rank acts
alike and names the rank whose batch produced the value.
``check_params=True`` also checks the parameters after each step. Selected
in ``default_runtime.py`` as ``default_hooks.finite_guard``.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
from mmengine.dist.utils import get_comm_device
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.distributed import get_rank_world

ACTIONS = ('raise', 'skip')


def describe_samples(data_batch: Any, limit: int = 16) -> List[str]:
    """Short names of the samples of a batch (for error messages).

    Each data sample is named by the first of its metainfo keys ``stem``,
    ``img_path``, ``img_id``, ``sample_idx`` that it has; a bilevel batch
    ``dict(train=..., val=...)`` is described split by split.

    Args:
        data_batch: A batch as yielded by a dataloader.
        limit (int): At most this many names.

    Returns:
        list[str]: The names (empty when the batch carries no metainfo).
    """
    names: List[str] = []
    if isinstance(data_batch, dict) and 'data_samples' not in data_batch:
        for split, sub in data_batch.items():
            names += [f'{split}:{n}' for n in describe_samples(sub, limit)]
        return names[:limit]
    samples = data_batch.get('data_samples') if isinstance(
        data_batch, dict) else None
    for sample in samples or []:
        meta = getattr(sample, 'metainfo', None) or {}
        for key in ('stem', 'img_path', 'img_id', 'sample_idx'):
            if key in meta:
                names.append(str(meta[key]))
                break
    return names[:limit]


@HOOKS.register_module()
class FiniteStepGuardHook(Hook):
    """Check gradients before every optimizer step (see module docstring).

    Args:
        action (str): ``'raise'`` or ``'skip'``. Defaults to 'raise'.
        max_consecutive_skips (int): With ``action='skip'``, raise once this
            many steps in a row were skipped. Defaults to 10.
        check_params (bool): Also check the parameters after each step.
            Defaults to False.
        max_names (int): At most this many parameter names in a message.
            Defaults to 10.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 action: str = 'raise',
                 max_consecutive_skips: int = 10,
                 check_params: bool = False,
                 max_names: int = 10) -> None:
        if action not in ACTIONS:
            raise ValueError(f'FiniteStepGuardHook: action must be one of '
                             f'{ACTIONS}, got {action!r}')
        if int(max_consecutive_skips) < 1:
            raise ValueError('FiniteStepGuardHook: max_consecutive_skips '
                             f'must be >= 1, got {max_consecutive_skips}')
        self.action = action
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.check_params = bool(check_params)
        self.max_names = int(max_names)
        self.num_skipped = 0
        self.consecutive_skips = 0
        self._handles: list = []
        self._names: Dict[int, str] = {}
        self._samples: List[str] = []
        self._runner = None
        # distributed runs: non-finite gradient seen before the averaging
        self._local_bad: Optional[torch.Tensor] = None

    # ------------------------------------------------------------------
    # registration
    # ------------------------------------------------------------------
    @staticmethod
    def _optimizers(optim_wrapper: Any) -> Dict[str, torch.optim.Optimizer]:
        if isinstance(optim_wrapper, OptimWrapperDict):
            return {
                name: ow.optimizer
                for name, ow in optim_wrapper.items()
            }
        if isinstance(optim_wrapper, OptimWrapper):
            return {'optimizer': optim_wrapper.optimizer}
        if isinstance(optim_wrapper, torch.optim.Optimizer):
            return {'optimizer': optim_wrapper}
        return {}

    def before_train(self, runner: Runner) -> None:
        self.remove()
        self._runner = runner
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._names = {id(p): n for n, p in model.named_parameters()}
        if get_rank_world()[1] > 1:
            # the tensor hooks see this rank's gradient before DDP's reducer
            # or the algorithm wrapper average it
            for p in model.parameters():
                if p.requires_grad:
                    self._handles.append(p.register_hook(self._note_local))
        for name, optimizer in self._optimizers(runner.optim_wrapper).items():
            self._handles.append(
                optimizer.register_step_pre_hook(self._make_pre_hook(name)))
            if self.check_params:
                self._handles.append(
                    optimizer.register_step_post_hook(
                        self._make_post_hook(name)))

    def after_train(self, runner: Runner) -> None:
        self.remove()

    def remove(self) -> None:
        """Remove the optimizer hooks (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch: Optional[Any] = None) -> None:
        self._samples = describe_samples(data_batch)
        self._local_bad = None

    def _note_local(self, grad: torch.Tensor) -> None:
        """Tensor hook: remember a non-finite local gradient (no sync)."""
        bad = ~torch.isfinite(grad).all()
        self._local_bad = bad if self._local_bad is None else (
            self._local_bad | bad.to(self._local_bad.device))

    # ------------------------------------------------------------------
    # the checks
    # ------------------------------------------------------------------
    def _param_name(self, param: torch.Tensor, group: int, index: int) -> str:
        return self._names.get(id(param), f'param_groups[{group}][{index}]')

    def nonfinite_grads(self, optimizer: torch.optim.Optimizer) -> List[str]:
        """Names of the parameters of ``optimizer`` whose ``.grad`` holds
        NaN or Inf."""
        grads, params = [], []
        for g, group in enumerate(optimizer.param_groups):
            for i, p in enumerate(group['params']):
                if p.grad is not None:
                    grads.append(p.grad)
                    params.append((p, g, i))
        if not grads:
            return []
        finite = torch.stack([torch.isfinite(x).all() for x in grads])
        if bool(finite.all()):
            return []
        return [
            self._param_name(*params[k])
            for k in torch.nonzero(~finite).flatten().tolist()
        ]

    def _where(self, name: str, origin: str = '') -> str:
        it = self._runner.iter if self._runner is not None else '?'
        if origin:
            return f'optimizer {name!r} at iteration {it} (0-based; {origin})'
        samples = ', '.join(self._samples) if self._samples else 'unknown'
        return (f'optimizer {name!r} at iteration {it} (0-based; batch '
                f'samples: {samples})')

    def _agree(self, bad: List[str]) -> Tuple[List[str], str]:
        """Distributed runs: whether any rank has non-finite gradients, the
        parameter names and which rank's batch produced them (collective:
        every rank calls it at every step)."""
        rank, world = get_rank_world()
        flags = torch.zeros(world, 2, dtype=torch.int32)
        flags[rank, 0] = int(bool(bad))
        if self._local_bad is not None:
            flags[rank, 1] = int(bool(self._local_bad))
        device = get_comm_device()
        flags = flags.to(device)
        dist.all_reduce(flags)
        flags = flags.cpu()
        if not bool(flags[:, 0].any()):
            return [], ''
        reports: List[Any] = [None] * world
        dist.all_gather_object(reports, (bad, self._samples))
        source = [r for r in range(world) if flags[r, 1]]
        before = bool(source)
        if not before:  # finite on every rank until the averaging
            source = [r for r in range(world) if flags[r, 0]]
        # the parameter names of a rank whose gradients are non-finite now
        names = bad or next(names for names, _ in reports if names)
        parts = []
        for r in source:
            samples = ', '.join(reports[r][1]) if reports[r][1] else 'unknown'
            parts.append(f'rank {r} of {world}, its batch samples: {samples}')
        origin = '; '.join(parts) + (
            ' (non-finite there before the gradients were averaged over the '
            'ranks)' if before else
            ' (finite on every rank before the averaging)')
        return names, origin

    def _names_text(self, names: Sequence[str]) -> str:
        shown = ', '.join(names[:self.max_names])
        more = len(names) - self.max_names
        return shown + (f' and {more} more' if more > 0 else '')

    def _make_pre_hook(self, name: str) -> Callable:

        def pre_hook(optimizer, args, kwargs):
            bad = self.nonfinite_grads(optimizer)
            origin = ''
            if get_rank_world()[1] > 1:
                bad, origin = self._agree(bad)
            if not bad:
                self.consecutive_skips = 0
                return None
            text = (f'FiniteStepGuardHook: non-finite gradient of '
                    f'{len(bad)} parameter(s) ({self._names_text(bad)}) '
                    f'for {self._where(name, origin)}')
            if self.action == 'raise':
                raise FloatingPointError(
                    text + '; the step was not taken, so the weights and the '
                    'last checkpoint stay finite. Lower the learning rate, '
                    'check these samples, or set default_hooks.finite_guard.'
                    "action='skip' to drop such steps")
            self.num_skipped += 1
            self.consecutive_skips += 1
            if self.consecutive_skips >= self.max_consecutive_skips:
                raise FloatingPointError(
                    f'{text}; {self.consecutive_skips} steps in a row had '
                    'non-finite gradients (max_consecutive_skips='
                    f'{self.max_consecutive_skips}), stopping')
            for group in optimizer.param_groups:
                for p in group['params']:
                    p.grad = None
            if self._runner is not None:
                self._runner.logger.warning(text + '; step skipped')
            return None

        return pre_hook

    def _make_post_hook(self, name: str) -> Callable:

        def post_hook(optimizer, args, kwargs):
            bad = [
                self._param_name(p, g, i)
                for g, group in enumerate(optimizer.param_groups)
                for i, p in enumerate(group['params'])
                if not bool(torch.isfinite(p).all())
            ]
            if bad:
                raise FloatingPointError(
                    f'FiniteStepGuardHook: {len(bad)} parameter(s) '
                    f'({self._names_text(bad)}) became non-finite in the '
                    f'step of {self._where(name)} although their gradients '
                    'were finite; lower the learning rate')

        return post_hook
