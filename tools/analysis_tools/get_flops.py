"""Parameters, MACs / FLOPs and latency of a config's model.

Example::

    python tools/analysis_tools/get_flops.py \\
        configs/tim/fusion_ivif_official.py --shape 448 620 \\
        --out-json work_dirs/ivif_cost.json

What is measured (see ``docs/user_guides/estimators.md``):

* an :class:`~mmfusenas.models.ImageFusor` (also one inside a search
  algorithm): its ``fusion_net`` on ``(batch, M, H, W)`` stacked sources,
  ``M`` = ``--num-sources`` or the ``in_channels`` of the outermost module
  that declares it; H, W are padded up to the data preprocessor's
  ``pad_size_divisor`` (the shape the network really sees);
* any other model: ``model(inputs, mode='tensor')`` for an MMEngine
  ``BaseModel``, else ``model(inputs)``.

Every convolution, matrix product and attention the forward executes is
counted by ``torch.utils.flop_counter`` (all submodules and functional
calls; FLOPs = 2 x MACs). Choice points of a supernet that is not inside a
search algorithm are bound to fresh architecture parameters; a supernet's
counts include every candidate (what one supernet forward costs).
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from terminaltables import AsciiTable


from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.models import ImageFusor  # noqa: E402
from mmfusenas.models.mutables import (  # noqa: E402
    ArchParams, DiffMixedOp, bind_arch_params)
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.search.estimators import (  # noqa: E402
    count_buffers, count_flops, count_params, device_name, measure_latency,
    num_threads)


def _int_at_least(low: int):
    """argparse type: an int >= ``low`` (``--num-sources 0`` was ignored)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'expected an integer, got {text!r}') from None
        if value < low:
            raise argparse.ArgumentTypeError(
                f'must be >= {low}, got {value}')
        return value

    return parse


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Parameters, MACs / FLOPs and latency of a model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape',
        type=_int_at_least(1),
        nargs=2,
        required=True,
        metavar=('H', 'W'),
        help='input height and width')
    parser.add_argument(
        '--num-sources',
        type=_int_at_least(1),
        help="stacked sources M (default: a compound model's stacked "
        'sources, else the in_channels of the network)')
    parser.add_argument(
        '--batch-size', type=_int_at_least(1), default=1,
        help='batch size (default 1)')
    parser.add_argument(
        '--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument(
        '--repeats',
        type=_int_at_least(1),
        default=20,
        help='timed forward passes; the median is reported (default 20)')
    parser.add_argument(
        '--warmup',
        type=_int_at_least(0),
        default=5,
        help='untimed passes before timing (default 5)')
    parser.add_argument(
        '--threads',
        type=_int_at_least(1),
        help='torch.set_num_threads for the CPU timing (default: unchanged)')
    parser.add_argument(
        '--no-latency', action='store_true', help='skip the timing')
    parser.add_argument(
        '--depth',
        type=_int_at_least(0),
        default=1,
        help='depth of the per-submodule breakdown (0: none; default 1)')
    parser.add_argument('--out-json', help='also write the results here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.fusion_net.channels=16')
    return parser.parse_args(argv)


def analysis_target(model: nn.Module) -> Tuple[nn.Module, int, str]:
    """The module to analyse, its size divisor and a description."""
    fusors = [m for m in model.modules() if isinstance(m, ImageFusor)]
    if fusors:
        fusor = fusors[0]
        divisor = getattr(fusor.data_preprocessor, 'pad_size_divisor', 1)
        where = 'fusion_net' if fusor is model else \
            f'fusion_net of the ImageFusor inside {type(model).__name__}'
        return fusor.fusion_net, divisor, where
    return model, 1, type(model).__name__


def num_sources(net: nn.Module) -> int:
    """Channels of the batch ``net`` reads: a compound model's stacked
    ``sources`` (one without a count: the first ``in_channels``), else the
    first ``in_channels``."""
    sources = getattr(getattr(net, 'architecture', net), 'sources', None)
    counts = list(sources.values()) if isinstance(sources, dict) else []
    if counts and None not in counts:
        return sum(counts)
    for module in net.modules():
        channels = getattr(module, 'in_channels', None)
        if isinstance(channels, int):
            return channels + sum(c for c in counts if c is not None)
    raise ValueError(f'cannot tell how many sources {type(net).__name__} '
                     'stacks (no in_channels attribute): pass --num-sources')


def breakdown(net: nn.Module, count, depth: int) -> Dict[str, dict]:
    """Params / MACs / FLOPs of the submodules with counted work, down to
    ``depth``.

    Depth counts only modules that did counted work (a ``ModuleList`` is
    never called, so ``cells.0`` is at depth 1 like ``stem``).
    """
    rows = {}
    for name, module in net.named_modules():
        if not name or name not in count.by_module:
            continue
        parts = name.split('.')
        level = 1 + sum('.'.join(parts[:i]) in count.by_module
                        for i in range(1, len(parts)))
        if level > depth:
            continue
        flops = count.by_module[name]
        rows[name] = dict(
            type=type(module).__name__,
            params=count_params(module),
            macs=flops // 2,
            flops=flops)
    return rows


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    model = MODELS.build(cfg.model)
    notes = []
    mixed = [m for m in model.modules() if isinstance(m, DiffMixedOp)]
    if mixed:
        if not any(isinstance(m, ArchParams) for m in model.modules()):
            bind_arch_params(model, ArchParams())
        notes.append(f'supernet with {len(mixed)} choice points: the counts '
                     'include every candidate')
    net, divisor, where = analysis_target(model)
    height, width = args.shape
    padded = tuple(-(-s // divisor) * divisor for s in (height, width))
    if padded != (height, width):
        notes.append(f'{height}x{width} padded to {padded[0]}x{padded[1]} '
                     f'(pad_size_divisor={divisor})')
    sources = (args.num_sources
               if args.num_sources is not None else num_sources(net))
    device = torch.device(args.device)
    net.to(device)
    x = torch.rand(args.batch_size, sources, *padded, device=device)
    inputs = dict(inputs=x, mode='tensor') if isinstance(net, BaseModel) else x

    count = count_flops(net, inputs)
    results = dict(
        config=args.config,
        analysed=where,
        inputs=[list(x.shape)],
        device=str(device),
        device_name=device_name(device),
        params=count_params(net),
        trainable_params=count_params(net, trainable_only=True),
        buffers=count_buffers(net),
        macs=count.macs,
        flops=count.flops,
        modules=breakdown(net, count, args.depth),
        notes=notes)
    if not args.no_latency:
        with num_threads(args.threads):
            stats = measure_latency(
                net, inputs, repeats=args.repeats, warmup=args.warmup)
            results.update(
                device_name=device_name(device),
                latency_ms=stats.median_ms,
                latency_min_ms=stats.min_ms,
                latency_repeats=args.repeats)

    rows = [
        ['model', f'{type(net).__name__} ({where})'],
        ['inputs', ' '.join(str(tuple(s)) for s in results['inputs'])],
        ['params', f'{results["params"]:,} ({results["params"] / 1e6:.4f} M)'],
        ['trainable params', f'{results["trainable_params"]:,}'],
        ['buffers (elements)', f'{results["buffers"]:,}'],
        ['MACs', f'{count.macs / 1e9:.4f} G'],
        ['FLOPs', f'{count.flops / 1e9:.4f} G (2 x MACs)'],
    ]
    if 'latency_ms' in results:
        rows.append([
            'latency (median)',
            f'{results["latency_ms"]:.2f} ms on {results["device_name"]} '
            f'({args.repeats} runs)'
        ])
    print(AsciiTable([['resource', 'value']] + rows).table)
    if results['modules']:
        total = max(count.macs, 1)
        print(
            AsciiTable([[
                'submodule', 'type', 'params', 'MACs (G)', 'FLOPs (G)',
                'MACs %'
            ]] + [[
                name, row['type'], f'{row["params"]:,}',
                f'{row["macs"] / 1e9:.4f}', f'{row["flops"] / 1e9:.4f}',
                f'{100 * row["macs"] / total:.1f}'
            ] for name, row in results['modules'].items()]).table)
    for note in notes:
        print(f'note: {note}')
    if args.out_json:
        atomic_write(json.dumps(results, indent=2), args.out_json)
        print(f'results written to {args.out_json}')
    return results


if __name__ == '__main__':
    main()
