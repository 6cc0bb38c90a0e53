"""Refuse optimizer steps on NaN / Inf gradients, naming the batch's samples
(``default_hooks.finite_guard``; docs/user_guides/reliability.md)."""
import math
from functools import partial
from typing import Any, List, Optional

import torch
from mmengine.dist import all_gather_object, all_reduce, get_dist_info
from mmengine.hooks import Hook, LoggerHook
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.runner import Runner
from torch.nn.utils import clip_grad_norm_
from torch.optim import Optimizer

from mmfusenas.registry import HOOKS
from mmfusenas.utils.distributed import unwrap
from mmfusenas.utils.checkpoint import short_list

_NAME_KEYS = ('stem', 'img_path', 'img_id', 'sample_idx')


def describe_samples(data_batch: Any, limit: int = 16) -> List[str]:
    """Each sample's first metainfo value of ``_NAME_KEYS``; a bilevel batch
    ``dict(train=..., val=...)`` split by split (``train:<name>``)."""
    if isinstance(data_batch, dict) and 'data_samples' not in data_batch:
        return [f'{split}:{n}' for split, sub in data_batch.items()
                for n in describe_samples(sub, limit)][:limit]
    samples = data_batch.get('data_samples') if isinstance(
        data_batch, dict) else None
    metas = [getattr(s, 'metainfo', None) or {} for s in samples or []]
    return [str(next(m[k] for k in _NAME_KEYS if k in m)) for m in metas
            if any(k in m for k in _NAME_KEYS)][:limit]


@HOOKS.register_module()
class FiniteStepGuardHook(Hook):
    """Refuse the optimizer step on NaN / Inf gradients (a step pre-hook
    on every optimizer of the optim wrapper), naming the optimizer, the
    iteration, the parameters, the samples and, distributed, the rank.

    Args:
        action (str): ``'raise'`` (:class:`FloatingPointError`) or
            ``'skip'`` (drop that step's gradients). Defaults to 'raise'.
        max_consecutive_skips (int): With ``'skip'``, raise after this many
            skipped steps in a row. Defaults to 10.
        check_params (bool): Also check the parameters after each step.
            Defaults to False.
        min_loss_scale (float): Under AMP, stop when the loss scale falls
            below this (or a smaller initial scale), read on the logger's
            iterations. Defaults to 1.0.
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'raise', max_consecutive_skips: int = 10,
                 check_params: bool = False,
                 min_loss_scale: float = 1.0) -> None:
        if action not in ('raise', 'skip') or max_consecutive_skips < 1 or \
                not min_loss_scale > 0:
            raise ValueError(
                "FiniteStepGuardHook: action must be one of ('raise', 'skip')"
                ', max_consecutive_skips >= 1 and min_loss_scale > 0, got '
                f'{action!r}, {max_consecutive_skips}, {min_loss_scale}')
        self.action, self.check_params = action, check_params
        self.min_loss_scale, self._scalers = min_loss_scale, []
        self.max_consecutive_skips = max_consecutive_skips
        self.num_skipped = self.consecutive_skips = 0
        self._handles, self._names, self._samples = [], {}, []
        self._runner, self._local_bad = None, None
        self._scale_interval = 1  # the LoggerHook's, set in before_train

    def before_train(self, runner: Runner) -> None:
        self.remove()
        self._runner, model = runner, unwrap(runner.model)
        self._names = {id(p): n for n, p in model.named_parameters()}
        if get_dist_info()[1] > 1:  # this rank's gradients, before averaging
            self._handles += [p.register_hook(self._note_local)
                              for p in model.parameters() if p.requires_grad]
        wrappers = list(runner.optim_wrapper.items()) if isinstance(
            runner.optim_wrapper, OptimWrapperDict) else [
                ('optimizer', runner.optim_wrapper)]
        # (scaler, floor): a static scale below min_loss_scale is the floor
        self._scalers = [(w.loss_scaler, min(self.min_loss_scale,
                                             w.loss_scaler.get_scale()))
                         for _, w in wrappers
                         if isinstance(w, AmpOptimWrapper)]
        self._scale_interval = next((h.interval for h in getattr(
            runner, 'hooks', ()) if isinstance(h, LoggerHook)), 1)
        for name, wrapper in wrappers:
            optimizer = getattr(wrapper, 'optimizer', wrapper)
            # a wrapper clipping by norm logged this step's norm just before
            hub = wrapper.message_hub if getattr(
                wrapper, 'clip_grad_kwargs', None) and getattr(
                    wrapper, 'clip_func', None) is clip_grad_norm_ else None
            self._handles.append(optimizer.register_step_pre_hook(
                partial(self._check_grads, name, hub)))
            if self.check_params:
                self._handles.append(optimizer.register_step_post_hook(
                    partial(self._check_params, name)))

    def remove(self) -> None:
        """Remove the optimizer and tensor hooks (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def after_train(self, runner: Runner) -> None:
        self.remove()

    def before_train_iter(self, runner: Runner, batch_idx: int,
                          data_batch: Any = None) -> None:
        self._samples, self._local_bad = describe_samples(data_batch), None

    def _note_local(self, grad: torch.Tensor) -> None:
        bad = ~torch.isfinite(grad).all()
        self._local_bad = bad if self._local_bad is None else (
            self._local_bad | bad.to(self._local_bad.device))

    def nonfinite_grads(self, optimizer: Optimizer,
                        values: bool = False) -> List[str]:
        """Names of the parameters of ``optimizer`` whose ``.grad`` (with
        ``values``: whose value) holds NaN / Inf."""
        items = [(p, t) for group in optimizer.param_groups
                 for p in group['params']
                 for t in [p if values else p.grad] if t is not None]
        if not items:
            return []
        finite = torch.stack([torch.isfinite(t).all() for _, t in items])
        return [self._names.get(id(items[k][0]), f'params[{k}]')
                for k in torch.nonzero(~finite).flatten().tolist()]

    def _where(self, name: str) -> str:
        where = (f'optimizer {name!r} at iteration '
                 f'{getattr(self._runner, "iter", "?")} (0-based; ')
        world = get_dist_info()[1]
        if world == 1:
            samples = ', '.join(self._samples) or 'unknown'
            return where + f'batch samples: {samples})'
        reports = all_gather_object(  # every rank is here: one gather
            (bool(self._local_bad is not None and self._local_bad),
             self._samples))
        parts = '; '.join(
            f'rank {r} of {world}, its batch samples: '
            f'{", ".join(samples) or "unknown"}'
            for r, (bad, samples) in enumerate(reports) if bad)
        return where + (parts + ' (non-finite there before the gradients were'
                        ' averaged over the ranks))' if parts else
                        'finite on every rank before the averaging)')

    def _check_grads(self, name: str, hub: Optional[MessageHub],
                     optimizer: Optimizer, args: tuple, kwargs: dict) -> None:
        grads = [p.grad for group in optimizer.param_groups
                 for p in group['params'] if p.grad is not None]
        # one norm decides (clip_grad's logged one, else a fused one); an
        # overflowing norm of finite values names nothing and steps
        if not grads:
            finite = True
        elif hub is not None:
            finite = math.isfinite(hub.get_scalar('train/grad_norm').current())
        else:
            finite = bool(torch.isfinite(torch.nn.utils.get_total_norm(grads)))
        bad = [] if finite else self.nonfinite_grads(optimizer)
        if not bad:
            self.consecutive_skips = 0
            return
        # a NaN norm times every gradient: clipping left no name to give
        spread = hub is not None and len(bad) == len(grads) > 1
        self._refuse(
            f'non-finite gradient norm, which clip_grad multiplied into all '
            f'{len(bad)} gradients (optim_wrapper.clip_grad=None names the '
            f'parameters) for {self._where(name)}' if spread else
            f'non-finite gradient of {len(bad)} parameter(s) '
            f'({short_list(bad, 10)}) for {self._where(name)}')
        optimizer.zero_grad(set_to_none=True)

    def after_train_iter(self, runner: Runner, batch_idx: int,
                         data_batch: Any = None, outputs: Any = None) -> None:
        """Under AMP (the scaler skips non-finite steps before the pre-hook
        runs): refuse a non-finite logged loss on every rank, and stop on a
        loss scale below ``min_loss_scale``."""
        if not self._scalers or 'loss' not in (outputs or {}):
            return
        finite = math.isfinite(
            runner.message_hub.get_scalar('train/loss').current())
        bad = torch.tensor([float(not finite)])
        all_reduce(bad)  # a no-op in one process
        if not bad.item():
            self.consecutive_skips = 0
            if not self.every_n_train_iters(runner, self._scale_interval):
                return
            low = [(s.get_scale(), floor) for s, floor in self._scalers]
            if any(scale < floor for scale, floor in low):
                scale = min(scale for scale, _ in low)
                raise FloatingPointError(
                    f'FiniteStepGuardHook: the AMP loss scale fell to '
                    f'{scale:g} (min_loss_scale={self.min_loss_scale:g}) at '
                    f'iteration {self._runner.iter}: the gradients are '
                    'non-finite at every scale and the weights no longer '
                    'train; run the overflowing operation in float32')
            return
        self._local_bad = torch.tensor(not finite)
        self._refuse(f'non-finite loss for {self._where("optimizer")} (AMP: '
                     'the loss scaler skipped the step)')

    def _refuse(self, text: str) -> None:
        """Raise, or (``'skip'``) count and log the refused step."""
        text = f'FiniteStepGuardHook: {text}'
        if self.action == 'raise':
            raise FloatingPointError(
                text + '; the step was not taken, so the weights and the last '
                'checkpoint stay finite. Lower the learning rate, check these '
                "samples, or set default_hooks.finite_guard.action='skip'")
        self.num_skipped += 1
        self.consecutive_skips += 1
        if self.consecutive_skips >= self.max_consecutive_skips:
            raise FloatingPointError(
                f'{text}; {self.consecutive_skips} steps in a row had '
                'non-finite gradients (max_consecutive_skips='
                f'{self.max_consecutive_skips}), stopping')
        if getattr(self._runner, 'logger', None) is not None:
            self._runner.logger.warning(text + '; step skipped')

    def _check_params(self, name: str, optimizer: Optimizer, args: tuple,
                      kwargs: dict) -> None:
        if bad := self.nonfinite_grads(optimizer, values=True):
            raise FloatingPointError(
                f'FiniteStepGuardHook: {len(bad)} parameter(s) '
                f'({short_list(bad, 10)}) became non-finite in '
                f'the step of {self._where(name)} although their gradients '
                'were finite; lower the learning rate')
