"""Path samplers of one-shot supernet training (SPOS and DCNAS variants):
uniform (``U``), best of m by validation loss (``B``) and the predictor's
best (``P``, refreshed on freshly scored paths). Candidates come from a
cost band (:class:`BandSampler`, DCNAS: ``τ = min(F(α0), F_max - σ)``,
``σ = (F_max - F_min) / 50``, accepting ``τ < F(α) < τ + σ``). In a
distributed run every rank trains rank 0's path.
"""
import math
import random
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log

from mmfusenas.models.mutables import (apply_choices, encode_choices,
                                       one_shot_space, random_choices)
from mmfusenas.registry import TASK_UTILS
from mmfusenas.utils.distributed import (average_value, broadcast_buffers_,
                                         broadcast_object, unwrap)

Path = Dict[str, str]


@torch.no_grad()
def path_loss(model, choices: Mapping[str, str],
              batches: Iterable[dict]) -> float:
    """Mean total loss of ``model`` with path ``choices`` over ``batches``
    (no gradients, mode restored; averaged over the ranks under
    ``data_parallel``).

    Raises:
        FloatingPointError: the loss is NaN / Inf (a value no optimizer
            step, hence no ``FiniteStepGuardHook``, sees).
    """
    model = unwrap(model)
    apply_choices(model, choices)
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    try:
        for batch in batches:
            data = model.data_preprocessor(batch, False)
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
            total += float(loss)
            n += 1
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError('path_loss: no batches')
    mean = average_value(total / n)
    if not math.isfinite(mean):
        raise FloatingPointError(
            f'path_loss: the loss of path {dict(choices)} is {mean}')
    return mean


class BandSampler:
    """Random paths within a cost band (see the module doc).

    Args:
        space (Mapping[str, Sequence[str]]): the one-shot space.
        cost_fn (Callable, optional): path -> cost (e.g. FLOPs).
        num_static (int): paths used to estimate the cost range.
        rng (random.Random): the random source.
    """

    def __init__(self,
                 space: Mapping[str, Sequence[str]],
                 cost_fn: Optional[Callable[[Path], float]] = None,
                 num_static: int = 200,
                 rng: Optional[random.Random] = None) -> None:
        self.space, self.cost_fn = space, cost_fn
        self.rng = rng or random.Random()
        if cost_fn is not None:
            costs = [
                cost_fn(random_choices(space, self.rng))
                for _ in range(num_static)
            ]
            self.lo, self.hi = min(costs), max(costs)
            self.sigma = (self.hi - self.lo) / 50

    def sample(self, m: int) -> List[Path]:
        """``m`` (or fewer, after 500 tries) paths in one band."""
        first = random_choices(self.space, self.rng)
        if self.cost_fn is None:
            return [first] + [
                random_choices(self.space, self.rng) for _ in range(m - 1)
            ]
        tau = min(self.cost_fn(first), self.hi - self.sigma)
        out = [first]
        for _ in range(500):
            if len(out) >= m:
                break
            cand = random_choices(self.space, self.rng)
            if tau < self.cost_fn(cand) < tau + self.sigma:
                out.append(cand)
        return out


class Cycle:
    """Iterate a loader endlessly, restarting it (same order) when
    exhausted. ``pos``: batches taken in the current pass; ``skip``:
    batches taken at once (a resumed position)."""

    def __init__(self, loader, skip: int = 0) -> None:
        self.loader, self._iterator, self.pos = loader, None, 0
        for _ in range(skip):
            next(self)

    def __next__(self):
        if self._iterator is not None:
            try:
                batch = next(self._iterator)
                self.pos += 1
                return batch
            except StopIteration:
                pass
        self._iterator, self.pos = iter(self.loader), 1
        return next(self._iterator)

    def take(self, n: int) -> List[dict]:
        """The next ``n`` batches."""
        return [next(self) for _ in range(n)]


@TASK_UTILS.register_module()
class UniformPathSampler:
    """Uniform single path (SPOS, official ``--sampling U``).

    Args:
        seed (int, optional): seed of the sampler's own random source.
    """

    def __init__(self, seed: Optional[int] = None) -> None:
        self.rng = random.Random(seed)
        self.space = None

    def setup(self, runner) -> None:
        """Read the space; start from rank 0's random state (the same
        paths on every rank, also with ``seed=None``)."""
        self.space = one_shot_space(unwrap(runner.model))
        if not self.space:
            raise ValueError('the model has no OneShotChoice choice points: '
                             'train a supernet (e.g. DCNASNet with arch=None)')
        self.rng.setstate(broadcast_object(self.rng.getstate()))

    def sample(self, runner) -> Path:
        return random_choices(self.space, self.rng)

    def state_dict(self) -> dict:
        """What a resumed run needs to draw as an uninterrupted one does
        (the loop keeps it in the checkpoints' message hub)."""
        return dict(rng=self.rng.getstate())

    def load_state_dict(self, state: dict) -> None:
        self.rng.setstate(state['rng'])


@TASK_UTILS.register_module()
class BestOfMPathSampler(UniformPathSampler):
    """``m`` band paths, keep the lowest loss on ``val_batches`` batches
    of the runner's validation loader (official ``--sampling B``).

    Args:
        m (int): candidates per iteration. Defaults to 20.
        val_batches (int): Defaults to 3.
        cost_table (dict, optional): a :class:`PathCostTable` config; its
            ``band_metric`` cost defines the band. None: no band.
        band_metric (str): Defaults to 'flops'.
        num_static (int): paths for the cost range. Defaults to 200.
        seed (int, optional): Defaults to None.
    """

    def __init__(self,
                 m: int = 20,
                 val_batches: int = 3,
                 cost_table: Optional[dict] = None,
                 band_metric: str = 'flops',
                 num_static: int = 200,
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        self.m, self.val_batches = m, val_batches
        self.cost_table_cfg, self.band_metric = cost_table, band_metric
        self.num_static = num_static

    def setup(self, runner) -> None:
        super().setup(runner)
        cost_fn = None
        if self.cost_table_cfg is not None:
            table = TASK_UTILS.build(self.cost_table_cfg)
            self.cost_table = table
            cost_fn = (lambda p: table.cost(p)[self.band_metric])
        self.band = BandSampler(
            self.space, cost_fn, self.num_static, rng=self.rng)
        self._runner, self._cycles = runner, {}

    def _batches(self, name: str, n: int) -> List[dict]:
        """The next ``n`` batches of the runner's ``{name}_dataloader``,
        cycled."""
        loader = getattr(self._runner, f'{name}_dataloader')
        return self._cycles.setdefault(name, Cycle(loader)).take(n)

    def state_dict(self) -> dict:
        band = {k: v for k, v in vars(self.band).items()
                if k in ('lo', 'hi', 'sigma')}
        return dict(super().state_dict(), band=band,
                    cycles={k: c.pos for k, c in self._cycles.items()})

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        vars(self.band).update(state['band'])
        # now, before the loop's first batch: a loader with an
        # InfiniteSampler shares one index stream among its iterators
        self._cycles = {
            k: Cycle(getattr(self._runner, f'{k}_dataloader'), pos)
            for k, pos in state['cycles'].items()
        }

    def sample(self, runner) -> Path:
        cands = self.band.sample(self.m)
        batches = self._batches('val', self.val_batches)
        losses = [path_loss(runner.model, c, batches) for c in cands]
        return cands[int(np.argmin(losses))]


@TASK_UTILS.register_module()
class PredictorPathSampler(BestOfMPathSampler):
    """``m`` band paths, keep the predictor's argmin (official
    ``--sampling P``, ``k = 1``), with periodic predictor refresh.

    Args:
        predictor (str): a predictor file
            (:func:`~mmfusenas.search.predictors.save_predictor`).
        m (int): Defaults to 20.
        refresh_interval (int): iterations between refreshes (0: never).
            Defaults to 0.
        refresh_start (int): first iteration that may refresh. Defaults
            to 0.
        refresh_paths (int): paths scored per refresh. Defaults to 100.
        refresh_batches (int): training batches per scored path.
            Defaults to 3.
        refresh_epochs (int): fine-tuning epochs. Defaults to 50.
        refresh_lr (float): Defaults to 1e-4.
        loss (str): predictor loss. Defaults to 'ranknet'.
        label_norm (str, optional): ``None`` (raw labels, official) or
            ``'standardize'`` for the refresh labels (see
            :func:`~mmfusenas.search.predictors.train_predictor`).
            Defaults to None.
        cost_table, band_metric, num_static, seed: as
            :class:`BestOfMPathSampler`.
    """
    # rescaled by --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'refresh_start': 'point',
                        'refresh_interval': 'interval'}

    def __init__(self,
                 predictor: str,
                 m: int = 20,
                 refresh_interval: int = 0,
                 refresh_start: int = 0,
                 refresh_paths: int = 100,
                 refresh_batches: int = 3,
                 refresh_epochs: int = 50,
                 refresh_lr: float = 1e-4,
                 loss: str = 'ranknet',
                 cost_table: Optional[dict] = None,
                 band_metric: str = 'flops',
                 num_static: int = 200,
                 seed: Optional[int] = None,
                 label_norm: Optional[str] = None) -> None:
        super().__init__(m, 0, cost_table, band_metric, num_static, seed)
        from mmfusenas.search.predictors import check_label_norm
        check_label_norm(label_norm, 'PredictorPathSampler')
        self.label_norm = label_norm
        self.predictor_file = predictor
        self.refresh_interval, self.refresh_start = (refresh_interval,
                                                     refresh_start)
        self.refresh_paths, self.refresh_batches = (refresh_paths,
                                                    refresh_batches)
        self.refresh_epochs, self.refresh_lr = refresh_epochs, refresh_lr
        self.loss = loss
        self.refreshes = 0

    def setup(self, runner) -> None:
        from mmfusenas.search.predictors import load_predictor
        super().setup(runner)
        self.predictor = load_predictor(self.predictor_file)
        if list(self.predictor.space) != list(self.space):
            raise ValueError(f'predictor {self.predictor_file} was trained '
                             'on another space (its keys differ from the '
                             "model's)")

    def refresh(self, runner) -> None:
        """Score ``refresh_paths`` random paths on training batches and
        fine-tune the predictor on them."""
        from mmfusenas.search.predictors import train_predictor
        paths = [
            random_choices(self.space, self.rng)
            for _ in range(self.refresh_paths)
        ]
        batches = self._batches('train', self.refresh_batches)
        labels = [path_loss(runner.model, p, batches) for p in paths]
        codes = [encode_choices(self.space, p) for p in paths]
        train_predictor(
            self.predictor,
            codes,
            labels,
            self.loss,
            self.refresh_epochs,
            16,
            self.refresh_lr,
            seed=self.rng.randrange(2**31),
            label_norm=self.label_norm)
        # the ranks trained on the same labels; keep them bit-identical
        broadcast_buffers_([
            *self.predictor.parameters(), *self.predictor.buffers()
        ])
        self.refreshes += 1
        print_log(f'predictor refreshed on {len(paths)} paths (refresh '
                  f'#{self.refreshes})', logger='current')

    def state_dict(self) -> dict:
        return dict(super().state_dict(), refreshes=self.refreshes,
                    predictor=self.predictor.state_dict())

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.refreshes = state['refreshes']
        self.predictor.load_state_dict(state['predictor'])

    def sample(self, runner) -> Path:
        it = runner.iter
        if (self.refresh_interval and it >= self.refresh_start and it > 0
                and (it - self.refresh_start) % self.refresh_interval == 0):
            self.refresh(runner)
        from mmfusenas.search.predictors import predict_scores
        cands = self.band.sample(self.m)
        scores = predict_scores(
            self.predictor, [encode_choices(self.space, c) for c in cands])
        return cands[int(np.argmin(scores))]
