"""The DCNAS constrained evolution as a train loop: scores paths of a
trained supernet and writes the best genotypes."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Tuple

from mmengine.dist import barrier, is_distributed, is_main_process
from mmengine.logging import print_log
from mmengine.runner import BaseLoop

from mmfusenas.models.mutables import (Genotype, apply_choices,
                                       encode_choices, one_shot_space)
from mmfusenas.registry import LOOPS, TASK_UTILS
from mmfusenas.search.estimators.resource_estimator import \
    ResourceConstraintError
from mmfusenas.search.strategies.evolution import (EvolutionSearcher, Path,
                                                   loader_sha256)
from mmfusenas.utils.cache_keys import portable_sha256, state_sha256
from mmfusenas.utils.distributed import (broadcast_object, unshard_sampler_,
                                         unwrap)
from mmfusenas.utils.state_dict_conversion import file_sha256

SEARCHER_OPTIONS = ('population_size', 'top_k', 'num_mutation',
                    'num_crossover', 'mutate_prob', 'max_iters', 'seed',
                    'max_tries_factor')


@LOOPS.register_module()
class EvolutionSearchLoop(BaseLoop):
    """Constrained evolution with supernet weights as a train loop
    (``docs/methods/dcnas.md``): a path scores ``metric`` of the supernet
    with the path set; the top 3 are written to ``<work_dir>/search/`` as
    genotypes of ``fix_network``. ``kwargs``: :data:`SEARCHER_OPTIONS`.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 fix_network: dict,
                 metric: str = 'gisr/RMSE',
                 rule: str = 'less',
                 cost_table: Optional[dict] = None,
                 budgets: Optional[dict] = None,
                 predictor: Optional[str] = None,
                 init_pool: int = 1000,
                 **kwargs) -> None:
        unknown = sorted(set(kwargs) - set(SEARCHER_OPTIONS))
        if unknown:
            raise TypeError(
                f'EvolutionSearchLoop: unknown train_cfg key(s) {unknown}; '
                f'the loop takes dataloader, evaluator, fix_network, metric, '
                f'rule, cost_table, budgets, predictor, init_pool and the '
                f'searcher options {list(SEARCHER_OPTIONS)}')
        # what makes the scores besides the weights (config dicts hashed)
        self.val_cfg = dict(val_dataloader=dataloader, evaluator=evaluator)
        super().__init__(runner, dataloader)
        self.evaluator = runner.build_evaluator(evaluator)
        self.fix_network = dict(fix_network)
        self.metric, self.rule = metric, rule
        self.cost_table = TASK_UTILS.build(cost_table) if isinstance(
            cost_table, dict) else cost_table
        self.budgets = dict(budgets or {})
        self.predictor_file, self.init_pool = predictor, init_pool
        self.searcher_kwargs = kwargs
        self.max_iters = kwargs.get('max_iters', 120)  # generations
        self.epoch, self.max_epochs = 0, 1
        self.searcher: Optional[EvolutionSearcher] = None

    iter = property(lambda self: self.searcher.iteration
                    if self.searcher else 0)

    def score(self, path: Path) -> float:
        """The metric of ``path`` on the whole validation set, on this rank
        alone."""
        model = unwrap(self.runner.model)
        apply_choices(model, path)
        model.eval()
        for batch in self.dataloader:
            outputs = self.runner.model.val_step(batch)
            self.evaluator.process(data_samples=outputs, data_batch=batch)
        size = len(self.dataloader.dataset)
        if not is_distributed():
            metrics = self.evaluator.evaluate(size)
        else:  # this rank's results only (no gather across ranks)
            metrics = {}
            for metric in self.evaluator.metrics:
                values = metric.compute_metrics(metric.results[:size])
                metric.results.clear()
                metrics.update({f'{metric.prefix}/{k}' if metric.prefix
                                else k: v for k, v in values.items()})
        if self.metric not in metrics:
            raise KeyError(f'EvolutionSearchLoop: metric {self.metric!r} not '
                           f'in the evaluator output {sorted(metrics)}')
        return float(metrics[self.metric])

    def _cost_fn(self) -> Optional[Callable[[Path], Dict[str, float]]]:
        """The path cost function (rank 0's latencies on every rank)."""
        table = self.cost_table
        if table is not None and is_distributed() and getattr(
                table, 'with_latency', False):
            return lambda path: broadcast_object(table.cost(path))
        return None if table is None else table.cost

    def _init_population(self, space) -> List[Path]:
        """The predictor's best ``population_size`` of ``init_pool``."""
        if self.predictor_file is None:
            return []
        from mmfusenas.search.predictors import load_predictor, predict_scores
        probe = EvolutionSearcher(
            space, lambda p: 0.0, self._cost_fn(), self.budgets,
            seed=self.searcher_kwargs.get('seed', 0) + 1)
        pool: List[Path] = []
        probe.random_legal(self.init_pool, pool)
        if not pool:
            raise ResourceConstraintError(
                f'EvolutionSearchLoop: no legal path in '
                f'{self.init_pool * probe.max_tries_factor} random draws '
                f'under budgets {self.budgets}; relax the budget')
        scores = predict_scores(load_predictor(self.predictor_file),
                                [encode_choices(space, p) for p in pool])
        order = sorted(range(len(pool)), key=lambda i: scores[i])
        n = self.searcher_kwargs.get('population_size', 50)
        return [pool[i] for i in order[:n]]

    def made_by(self) -> dict:
        """Hashes of what makes the scores, costs and generation 0 (weights,
        configs, metric, cost table, predictor): a resume needs them
        unchanged."""
        runner = self.runner
        cfg, work_dir = getattr(runner, 'cfg', None) or {}, runner.work_dir
        return dict(
            weights_sha256=state_sha256(unwrap(runner.model).state_dict()),
            model_sha256=portable_sha256(cfg.get('model'), work_dir),
            val_dataloader_sha256=loader_sha256(
                self.val_cfg['val_dataloader'], work_dir),
            evaluator_sha256=portable_sha256(self.val_cfg['evaluator'],
                                             work_dir),
            metric=self.metric,
            cost_table_sha256=None if self.cost_table is None else
            portable_sha256(getattr(self.cost_table, 'context',
                                    repr(self.cost_table)), work_dir),
            predictor_sha256=None if self.predictor_file is None else
            file_sha256(self.predictor_file),
            init_pool=None if self.predictor_file is None else
            self.init_pool)

    def run(self) -> List[Tuple[float, Path]]:
        runner = self.runner
        space = one_shot_space(unwrap(runner.model))
        if not space:
            raise ValueError('EvolutionSearchLoop: the model has no '
                             'OneShotChoice choice points (load a supernet)')
        if self.cost_table is not None and self.budgets:
            cheapest = self.cost_table.check_budgets(self.budgets)
            print_log(f'evolution: cheapest legal path costs {cheapest}',
                      logger='current')
        runner.call_hook('before_train')
        if is_distributed():  # each rank scores its candidates on all data
            unshard_sampler_(self.dataloader)
        out_dir = osp.join(runner.work_dir, 'search')
        canonical = next((m.canonical_path
                          for m in unwrap(runner.model).modules()
                          if hasattr(m, 'canonical_path')), None)
        self.searcher = EvolutionSearcher(
            space, self.score, self._cost_fn(), self.budgets, rule=self.rule,
            state_file=osp.join(out_dir, 'evolution_state.json'),
            init_population=self._init_population(space),
            canonical_fn=canonical, made_by=self.made_by(),
            **self.searcher_kwargs)
        top = self.searcher.run()
        for i, (score, path) in enumerate(top[:3] if is_main_process()
                                          else []):
            costs = None if self.cost_table is None else {
                k: v for k, v in self.cost_table.cost(path).items() if v == v}
            geno = Genotype(
                choices=path, network=dict(self.fix_network, arch=path),
                meta=dict(score=score, metric=self.metric, rule=self.rule,
                          costs=costs, budgets=self.budgets,
                          generations=self.searcher.iteration, rank=i + 1))
            geno.dump(osp.join(out_dir, f'top{i + 1}.yaml'))
            if i == 0:
                geno.dump(osp.join(out_dir, 'best_genotype.yaml'))
        barrier()  # the others return once rank 0's files exist
        print_log(f'evolution: best {self.metric} = {top[0][0]!r}; '
                  f'genotypes in {out_dir}', logger='current')
        runner.call_hook('after_train')
        return top
