"""Staged α schedules: which architecture keys are searched when."""
import fnmatch
from typing import List, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH
from mmengine.runner import Runner

from mmfusenas.models.mutables import choice_parents
from mmfusenas.registry import HOOKS
from ._utils import search_algorithm


@HOOKS.register_module()
class ArchScheduleHook(Hook):
    """Update only some α groups in some epochs (TIM's staged search).

    ``keys=[]`` is a weights-only warm-up; outside every stage α is not
    updated. Example (TIM)::

        dict(type='ArchScheduleHook', stages=[
            dict(begin=0, end=20, levels=[0]),     # cell0, cell1
            dict(begin=20, end=100, levels=[1]),   # cell*/<cell>/op*
        ])

    Args:
        stages (Sequence[dict]): ``dict(begin, end=None, keys=None,
            levels=None)``: a half-open, non-overlapping range and the keys
            it updates, by fnmatch patterns and / or nesting depths (0:
            outermost); neither: every key.
        by_epoch (bool): Count epochs or iterations. Defaults to True.
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'stages.*.begin': 'start', 'stages.*.end': 'point'}
    priority = 'ABOVE_NORMAL'

    def __init__(self, stages: Sequence[dict], by_epoch: bool = True) -> None:
        for i, stage in enumerate(stages):
            if set(stage) - {'begin', 'end', 'keys', 'levels'} or \
                    'begin' not in stage:
                raise ValueError(
                    f'ArchScheduleHook: stage {i} must be dict(begin, end, '
                    f'keys=None, levels=None), got {dict(stage)}')
        self.stages: List[tuple] = sorted(
            ((s['begin'], s.get('end'), s.get('keys'), s.get('levels'))
             for s in stages), key=lambda s: s[0])
        # 0 <= begin < end <= next begin < ...; only the last end may be None
        ranges = [s[:2] for s in self.stages]
        if not ranges or ranges[0][0] < 0 or any(
                end is not None and end <= begin for begin, end in ranges
        ) or any(end is None or end > begin
                 for (_, end), (begin, _) in zip(ranges, ranges[1:])):
            raise ValueError('ArchScheduleHook: stages must be non-empty, '
                             'non-overlapping ranges [begin >= 0, end > '
                             f'begin), got {ranges}')
        self.by_epoch = by_epoch
        self._depth: Optional[dict] = None

    def keys_of(self, stage: Optional[int], all_keys: Sequence[str],
                depth: dict) -> Tuple[str, ...]:
        """The keys stage ``stage`` updates (none outside every stage)."""
        if stage is None:
            return ()
        _, _, patterns, levels = self.stages[stage]
        if patterns is None and levels is None:
            return tuple(all_keys)
        return tuple(k for k in all_keys if depth.get(k) in (levels or ())
                     or any(fnmatch.fnmatchcase(k, p) for p in patterns or ()))

    def _apply(self, runner: Runner, step: int) -> None:
        algo = search_algorithm(runner, 'ArchScheduleHook',
                                'set_active_arch_keys')
        all_keys = list(algo.arch_params.keys())
        if self._depth is None:  # nesting depth (0: outermost) of each key
            parents = choice_parents(algo.space)

            def depth(key: str) -> int:
                parent = parents.get(key)
                return 0 if parent is None else 1 + depth(parent[0])

            self._depth = {key: depth(key) for key in parents}
            for i, (_, _, patterns, levels) in enumerate(self.stages):
                if (patterns or levels) and not self.keys_of(
                        i, all_keys, self._depth):
                    raise ValueError(
                        f'ArchScheduleHook: stage {i} (keys={patterns}, '
                        f'levels={levels}) matches no architecture key of '
                        f'{all_keys}')
        stage = next((i for i, (b, e, *_) in enumerate(self.stages)
                      if b <= step and (e is None or step < e)), None)
        keys = self.keys_of(stage, all_keys, self._depth)
        if algo.active_arch_keys != keys:
            algo.set_active_arch_keys(keys)
            runner.logger.info(
                f'ArchScheduleHook: {"epoch" if self.by_epoch else "iter"} '
                f'{step}: stage {stage}, α steps update {len(keys)} keys' +
                (f' ({", ".join(keys[:4]) + ", ..." * (len(keys) > 4)})'
                 if keys else ' (none)'))

    def before_train_epoch(self, runner: Runner) -> None:
        if self.by_epoch:
            self._apply(runner, runner.epoch)

    def before_train_iter(self, runner: Runner, batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        if not self.by_epoch:
            self._apply(runner, runner.iter)
