"""How good is each strategy's hypergradient, and where does its search end?

Usage::

    python benchmarks/bench_hypergradients.py [--outer 300] [--inner 10]

Two bilevel problems with closed-form optima
(:mod:`mmfusenas.testing.bilevel_problems`): ``ridge1d`` (scalar ridge
regression, α = log ridge weight) and ``quadratic`` (a quadratic lower level
with a dense Hessian of condition number 10, α ∈ R²). Per strategy:

* ``cosine``: cosine between the strategy's α-gradient and the exact
  hypergradient ``dF(θ*(α), α)/dα`` at α0, after ``5·inner`` SGD steps on θ
  from 0 (θ close to, not at, θ*(α0); what a search sees);
* ``final α`` / ``gap``: where an alternating search (``inner`` SGD steps
  on θ, then one Adam step on α, lr 0.05 decaying ×0.99 per step, ``outer``
  steps) ends, and ``F(θ*(α)) − F(θ*(α*))`` there.

The last line is ``RESULT {json}`` with, per problem and strategy,
``{cosine, final_alpha, alpha_star, gap}`` (``null`` where a strategy
raises, e.g. DARTS first order when F does not depend on α directly).
"""
import argparse
import json
import os.path as osp
import sys

import torch
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.registry import TASK_UTILS  # noqa: E402
from mmfusenas.testing.bilevel_problems import (  # noqa: E402
    QuadraticProblem, RidgeProblem1D, cosine)

STRATEGIES = {
    'DARTS-1st': dict(type='DartsFirstOrderStrategy'),
    'DARTS-2nd': dict(type='DartsSecondOrderStrategy'),
    'IAS paper (Eq. 4)': dict(type='IASStrategy', variant='paper'),
    'IAS official': dict(type='IASStrategy', variant='official'),
    'Implicit CG': dict(type='ImplicitStrategy', solver='cg', max_iters=20),
    'Implicit Neumann': dict(
        type='ImplicitStrategy', solver='neumann', max_iters=200),
}
# (problem, α0, inner learning rate)
PROBLEMS = [(RidgeProblem1D, -2.0, 0.2), (QuadraticProblem, 0.0, 0.15)]


def run_one(problem, strategy, alpha0, lr_w, outer, inner):
    """Cosine at α0 and the end of the alternating search."""
    a0 = torch.full_like(problem.alpha, alpha0)
    out = dict(alpha_star=problem.alpha_star.tolist())
    problem.reset(a0)
    opt = problem.inner_steps(5 * inner, lr_w)
    try:
        grad = strategy.hypergradient(problem.problem(opt)).grads[0]
        out['cosine'] = cosine(grad, problem.exact_hypergradient(a0))
    except (ValueError, FloatingPointError) as err:
        out['cosine'] = None
        out['error'] = str(err).split(';')[0]
    try:
        traj = problem.alternate(
            strategy, a0, outer, inner, lr_w, lr_a=0.05, lr_decay=0.99)
        out['final_alpha'] = traj['alpha'][-1] if traj['alpha'] else None
        out['gap'] = traj['gap'][-1] if traj['gap'] else None
    except (ValueError, FloatingPointError) as err:
        out['final_alpha'] = out['gap'] = None
        out.setdefault('error', str(err).split(';')[0])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--outer', type=int, default=300)
    parser.add_argument('--inner', type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)

    result = {}
    for cls, alpha0, lr_w in PROBLEMS:
        problem = cls()
        rows = [['strategy', 'cosine', 'final α', 'α*', 'F gap']]
        result[problem.name] = {}
        for label, cfg in STRATEGIES.items():
            res = run_one(problem, TASK_UTILS.build(cfg), alpha0, lr_w,
                          args.outer, args.inner)
            result[problem.name][label] = res

            def fmt(x):
                if x is None:
                    return 'n/a'
                return ', '.join(f'{v:+.4f}' for v in x)

            rows.append([
                label, 'n/a' if res['cosine'] is None else
                f'{res["cosine"]:+.4f}',
                fmt(res['final_alpha']),
                fmt(res['alpha_star']),
                'n/a' if res['gap'] is None else f'{res["gap"]:.2e}'
            ])
        print(f'\n{problem.name}: α0 = {alpha0}, {args.outer} α steps x '
              f'{args.inner} SGD steps (lr {lr_w})')
        print(AsciiTable(rows).table)
    print('RESULT ' + json.dumps(result))


if __name__ == '__main__':
    main()
