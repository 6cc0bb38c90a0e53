"""Measure the separation of ``softmax(α)``; stop the search once it has."""
import math
from typing import Dict, Optional

from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from ._utils import IntervalHook, search_algorithm

#: message-hub runtime-info key of the separation curve (in checkpoints)
CURVE_KEY = 'arch_separation'


def separation(probabilities: Dict[str, Dict[str, float]]) -> dict:
    """``min_ratio`` (top-1 / top-2), ``max_entropy``, ``mean_entropy``
    (normalised: 1 uniform), ``keys`` and ``per_key`` over the keys of
    ``{key: {candidate: p}}`` with two or more candidates."""
    per_key = {}
    for key, dist in probabilities.items():
        ps = sorted((float(p) for p in dist.values()), reverse=True)
        if len(ps) < 2:
            continue
        total = sum(ps)
        ps = [p / total for p in ps]
        ent = -sum(p * math.log(p) for p in ps if p > 0) / math.log(len(ps))
        per_key[key] = dict(ratio=ps[0] / ps[1] if ps[1] > 0 else math.inf,
                            entropy=ent)
    if not per_key:
        raise ValueError('separation: no architecture key with two or more '
                         'candidates')
    ents = [v['entropy'] for v in per_key.values()]
    return dict(min_ratio=min(v['ratio'] for v in per_key.values()),
                max_entropy=max(ents), mean_entropy=sum(ents) / len(ents),
                keys=len(per_key), per_key=per_key)


@HOOKS.register_module()
class ArchSeparationHook(IntervalHook):
    """Track the separation of ``softmax(α)`` and end the search once every
    key has separated (``min_ratio >= ratio`` and ``max_entropy <=
    entropy``, those set); the curve goes to the message-hub info
    ``arch_separation`` and the visualizer.

    Args:
        ratio (float, optional): least top-1 / top-2 ratio. Defaults to 1.5.
        entropy (float, optional): largest normalised entropy. Defaults to
            None (not a criterion).
        interval (int): measure every ``interval`` epochs / iterations.
        by_epoch (bool): count epochs or iterations. Defaults to True.
        stop (bool): end the search once separated. Defaults to True.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, ratio: Optional[float] = 1.5,
                 entropy: Optional[float] = None, interval: int = 1,
                 by_epoch: bool = True, stop: bool = True) -> None:
        if ratio is entropy is None or ratio is not None and ratio < 1 or \
                entropy is not None and not 0 <= entropy <= 1:
            raise ValueError('ArchSeparationHook: set ratio >= 1, entropy in '
                             f'[0, 1] or both, got ratio={ratio}, '
                             f'entropy={entropy}')
        super().__init__(interval, by_epoch)
        self.ratio, self.entropy, self.stop = ratio, entropy, stop

    def at_interval(self, runner: Runner) -> None:
        self.measure(runner, runner.epoch + 1 if self.by_epoch else
                     runner.iter + 1)

    def measure(self, runner: Runner, step: int) -> dict:
        """Measure at ``step``; returns the curve's new point."""
        m = separation(search_algorithm(
            runner, type(self).__name__).arch_params.probabilities())
        keys = ('min_ratio', 'max_entropy', 'mean_entropy')
        point = dict(step=step, **{k: m[k] for k in keys}, separated=(
            self.ratio is None or m['min_ratio'] >= self.ratio) and (
                self.entropy is None or m['max_entropy'] <= self.entropy))
        curve = [p for p in runner.message_hub.get_info(CURVE_KEY) or []
                 if p['step'] < step] + [point]
        runner.message_hub.update_info(CURVE_KEY, curve)
        runner.visualizer.add_scalars(
            {f'arch_separation/{k}': point[k] for k in keys},
            step=runner.iter + (0 if self.by_epoch else 1))
        runner.logger.info(
            f'softmax(α) separation at {"epoch" if self.by_epoch else "iter"}'
            f' {step}: min top-1/top-2 ratio {point["min_ratio"]:.3f}, '
            f'max normalised entropy {point["max_entropy"]:.3f}' +
            (' (separated)' if point['separated'] else ''))
        if point['separated'] and self.stop:
            runner.train_loop.stop_training = True
        return point

    def after_train(self, runner: Runner) -> None:
        curve = runner.message_hub.get_info(CURVE_KEY) or []
        first = next((p['step'] for p in curve if p['separated']), None)
        unit = 'epoch' if self.by_epoch else 'iteration'
        criteria = [f'top-1/top-2 >= {self.ratio}'] * (self.ratio is not None)
        criteria += [f'normalised entropy <= {self.entropy}'] * (
            self.entropy is not None)
        runner.logger.info(
            f'softmax(α) separation ({" and ".join(criteria)} on every key): '
            + (f'reached at {unit} {first}' if first is not None else
               f'not reached in {len(curve)} measurements (the cap ended '
               'the search)'))
