"""Constrained evolutionary search over a one-shot space (DCNAS), without a
runner (:class:`~mmfusenas.engine.runner.EvolutionSearchLoop` drives it).

Each generation mutates and crosses the top-k paths seen so far and fills
the population with random legal paths; the state is written after every
generation, so a resumed search continues exactly; a state made by other
scores (``made_by``: weights, metric, data, ..., and the searcher options)
is not resumed.
"""
import json
import logging
import os.path as osp
import random
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from mmfusenas.models.mutables import encode_choices, random_choices
from mmfusenas.utils.cache_keys import portable_sha256
from mmfusenas.utils.distributed import parallel_map
from mmfusenas.utils.fileio import atomic_write, read_json
from ..estimators.path_cost_table import PathCostTable
from ..estimators.resource_estimator import ResourceConstraintError

Path = Dict[str, str]
STATE_FORMAT = 'mmfusenas-evolution-state/1'
RULES = ('less', 'greater')
#: the options that make the scores and the generations (not ``max_iters``:
#: a longer search resumes a shorter one)
MADE_BY_OPTIONS = ('population_size', 'top_k', 'num_mutation',
                   'num_crossover', 'mutate_prob', 'seed', 'max_tries_factor')
#: dataloader settings that do not change the batches (not hashed)
LOADER_RUNTIME = ('num_workers', 'persistent_workers', 'pin_memory',
                  'prefetch_factor')


def loader_sha256(loader: Mapping, work_dir: Optional[str] = None) -> str:
    """:func:`~mmfusenas.utils.cache_keys.portable_sha256` of a dataloader
    config less :data:`LOADER_RUNTIME`."""
    return portable_sha256(
        {k: v for k, v in loader.items() if k not in LOADER_RUNTIME},
        work_dir)


class EvolutionSearcher:
    """The evolutionary search of the module doc (options:
    ``docs/methods/dcnas.md``): ``score_fn`` and ``cost_fn`` map a path to
    its score and costs, ``budgets`` bound the costs (negative / None: off),
    ``init_population`` is the first generation (filled up with random legal
    paths), ``state_file`` the JSON state for exact resumption, and
    ``canonical_fn`` maps paths that compute the same function to one
    (visited and scored once, e.g. :meth:`DCNASNet.canonical_path`).
    ``made_by`` (JSON values) names what makes ``score_fn``'s scores (e.g.
    the weights' hash, the metric); saved with :data:`MADE_BY_OPTIONS`, a
    state made by others is not resumed (the search starts afresh).
    """

    def __init__(self,
                 space: Mapping[str, Sequence[str]],
                 score_fn: Callable[[Path], float],
                 cost_fn: Optional[Callable[[Path], Dict[str, float]]] = None,
                 budgets: Optional[Mapping[str, float]] = None,
                 population_size: int = 50,
                 top_k: int = 10,
                 num_mutation: int = 25,
                 num_crossover: int = 25,
                 mutate_prob: float = 0.2,
                 max_iters: int = 120,
                 rule: str = 'less',
                 seed: int = 0,
                 max_tries_factor: int = 10,
                 state_file: Optional[str] = None,
                 init_population: Optional[Sequence[Path]] = None,
                 canonical_fn: Optional[Callable[[Path], Path]] = None,
                 made_by: Optional[Mapping[str, object]] = None) -> None:
        if rule not in RULES:
            raise ValueError(f'rule must be one of {RULES}, got {rule!r}')
        if budgets and cost_fn is None:
            raise ValueError('budgets need a cost_fn (a path cost table)')
        self.space = {k: tuple(v) for k, v in space.items()}
        self.score_fn, self.cost_fn = score_fn, cost_fn
        self.budgets = dict(budgets or {})
        self.population_size, self.top_k = population_size, top_k
        self.num_mutation, self.num_crossover = num_mutation, num_crossover
        self.mutate_prob, self.max_iters = mutate_prob, max_iters
        self.rule, self.max_tries_factor = rule, max_tries_factor
        self.state_file, self.rng = state_file, random.Random(seed)
        self.init_population = list(init_population or [])
        self.canonical_fn = canonical_fn
        made_by = dict(made_by or {}, seed=seed)
        made_by.update(
            (k, getattr(self, k)) for k in MADE_BY_OPTIONS if k != 'seed')
        self.made_by = json.loads(json.dumps(made_by))  # as saved
        self.scores: Dict[str, float] = {}
        self.costs: Dict[str, Dict[str, float]] = {}
        self.topk: List[str] = []
        self.iteration = self._scored = 0
        self.history: List[dict] = []

    def _score(self, path: Path) -> float:
        """``score_fn``, logging progress every ``population_size // 5``."""
        value = self.score_fn(path)
        self._scored += 1
        if self._scored % max(1, self.population_size // 5) == 0:
            print_log(f'evolution generation {self.iteration}: scored '
                      f'{self._scored} candidates', logger='current')
        return value

    def key(self, path: Path) -> str:
        if self.canonical_fn is not None:
            path = self.canonical_fn(path)
        return ','.join(map(str, encode_choices(self.space, path)))

    def path(self, key: str) -> Path:
        codes = [int(c) for c in key.split(',')]
        return {k: v[c] for (k, v), c in zip(self.space.items(), codes)}

    def legal(self, path: Path) -> bool:
        """Not scored yet and within the budgets."""
        key = self.key(path)
        if key in self.scores:
            return False
        if self.cost_fn is None:
            return True
        self.costs[key] = self.costs.get(key) or self.cost_fn(path)
        return PathCostTable.within(self.costs[key], self.budgets)

    def _tries(self, n: int, make: Callable[[], Path],
               out: List[Path]) -> None:
        """Append up to ``n`` new legal paths of ``make()`` to ``out``."""
        seen = {self.key(p) for p in out}
        for _ in range(max(n, 0) * self.max_tries_factor):
            cand = make()
            k = self.key(cand)
            if k not in seen and self.legal(cand):
                out.append(cand)
                seen.add(k)
                n -= 1
                if n == 0:
                    return

    def mutate(self) -> Path:
        parent = self.path(self.rng.choice(self.topk))
        return {k: (v[self.rng.randrange(len(v))] if self.rng.random() <
                    self.mutate_prob else parent[k])
                for k, v in self.space.items()}

    def crossover(self) -> Path:
        a = self.path(self.rng.choice(self.topk))
        b = self.path(self.rng.choice(self.topk))
        return {k: (a[k] if self.rng.random() < 0.5 else b[k])
                for k in self.space}

    def random_legal(self, n: int, out: List[Path]) -> None:
        self._tries(n, lambda: random_choices(self.space, self.rng), out)

    def state_dict(self) -> dict:
        return dict(format=STATE_FORMAT, iteration=self.iteration,
                    scores=self.scores, costs=self.costs, topk=self.topk,
                    history=self.history, rng=self.rng.getstate(),
                    space={k: list(v) for k, v in self.space.items()},
                    rule=self.rule, budgets=self.budgets,
                    made_by=self.made_by)

    def load(self, path: str) -> bool:
        """Restore a saved state (the space, rule and budgets must match);
        False (nothing restored, the reason logged) if it was made by other
        ``made_by`` values."""
        data = read_json(path)
        if data.get('format') != STATE_FORMAT:
            raise ValueError(f'{path} is not an evolution state file')
        mine = self.state_dict()
        for name in ('space', 'rule', 'budgets'):
            if data[name] != mine[name]:
                raise ValueError(f'{path}: saved {name} differs from this '
                                 'search; use another work dir or delete '
                                 'the state file')
        saved = data.get('made_by') or {}
        differ = sorted(k for k in set(saved) | set(self.made_by)
                        if saved.get(k) != self.made_by.get(k))
        if differ:
            print_log(f'evolution: {path}: saved {", ".join(differ)} '
                      'differ(s) from this search; starting afresh',
                      logger='current', level=logging.WARNING)
            return False
        self.iteration, self.costs, self.topk, self.history = (
            data[k] for k in ('iteration', 'costs', 'topk', 'history'))
        self.scores = {k: float(v) for k, v in data['scores'].items()}
        version, internal, gauss = data['rng']  # JSON made tuples lists
        self.rng.setstate((version, tuple(internal), gauss))
        return True

    def step(self) -> None:
        """One generation: build the population, score it, update top-k."""
        pop: List[Path] = []
        if self.iteration == 0:
            for p in self.init_population:
                if len(pop) < self.population_size and self.legal(p) and \
                        self.key(p) not in {self.key(q) for q in pop}:
                    pop.append(p)
        else:
            self._tries(self.num_mutation, self.mutate, pop)
            self._tries(self.num_crossover, self.crossover, pop)
        self.random_legal(self.population_size - len(pop), pop)
        if not pop:
            raise ResourceConstraintError(
                f'evolution generation {self.iteration}: no legal path found '
                f'(budgets {self.budgets}, {len(self.scores)} paths already '
                'scored); relax the budget or shrink the search')
        self._scored = 0  # distributed: split across the ranks, in order
        for p, value in zip(pop, parallel_map(self._score, pop)):
            self.scores[self.key(p)] = float(value)
        self.topk = sorted(self.scores, key=self.scores.__getitem__,
                           reverse=self.rule == 'greater')[:self.top_k]
        best = self.scores[self.topk[0]] if self.topk else None
        self.history.append(
            dict(iteration=self.iteration, scored=len(pop), best=best))
        print_log(f'evolution generation {self.iteration}: scored '
                  f'{len(pop)}, best {best!r}', logger='current')
        self.iteration += 1
        if self.state_file and is_main_process():
            atomic_write(json.dumps(self.state_dict()), self.state_file)

    def run(self) -> List[Tuple[float, Path]]:
        """Run (or resume) to ``max_iters``; returns the top-k."""
        if self.state_file and osp.isfile(self.state_file) and \
                self.load(self.state_file):
            print_log(f'evolution: resumed at generation {self.iteration} '
                      f'from {self.state_file}', logger='current')
        while self.iteration < self.max_iters:
            self.step()
        return [(self.scores[k], self.path(k)) for k in self.topk]
