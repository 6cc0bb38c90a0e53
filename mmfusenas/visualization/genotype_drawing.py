"""Draw searched cells / networks as DAG pictures (matplotlib, no graphviz).

:func:`cell_graphs` turns every cell config of a network config (TIM, RUAS,
HBL and DCNAS cells; any ``ops`` list as a chain) into a small DAG,
:func:`draw_graphs` draws them and :func:`draw_genotype` draws a genotype
file.
"""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

Graph = Dict[str, Any]  # title, nodes {name: (x, y)}, edges [(a, b, label)]


def op_label(spec: Any) -> str:
    """Short name of an edge spec (op name, or a module config's type)."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        name = str(spec.get('type', '?')).split('.')[-1]
        if name == 'DiffMixedOp':
            return f"mixed[{spec.get('key', '?')}]"
        return name
    return str(spec)


def _chain(title: str, ops: Sequence[Any], pre: Optional[str] = None
           ) -> Graph:
    names = ['x'] + ([pre] if pre else []) + [f'n{i + 1}' for i in
                                               range(len(ops))]
    names[-1] = 'out'
    nodes = {n: (float(i), 0.0) for i, n in enumerate(names)}
    labels = (['ReLU-1x1-BN'] if pre else []) + [op_label(o) for o in ops]
    edges = [(names[i], names[i + 1], labels[i]) for i in range(len(labels))]
    return dict(title=title, nodes=nodes, edges=edges)


def _multi_scale(title: str, ops: Sequence[Any]) -> Graph:
    nodes = {'x': (0.0, 0.0), 'p': (1.0, 0.0)}
    edges = [('x', 'p', 'ReLU-1x1-BN')]
    for row, (scale, down) in enumerate(((1, None), (2, '↓2'), (4, '↓4'))):
        y = -float(row)
        prev = 'p'
        if down:
            nodes[f's{scale}'] = (2.0, y)
            edges.append(('p', f's{scale}', down))
            prev = f's{scale}'
        for i, op in enumerate(ops):
            node = f'{scale}_{i}'
            nodes[node] = (3.0 + i, y)
            edges.append((prev, node, op_label(op)))
            prev = node
        edges.append((prev, 'skff', f'↑{scale}' if scale > 1 else ''))
    nodes['skff'] = (3.0 + len(ops), -1.0)
    nodes['out'] = (4.0 + len(ops), -1.0)
    edges += [('skff', 'out', 'SKFF'), ('p', 'out', '+ residual')]
    return dict(title=title, nodes=nodes, edges=edges)


def _decomposition(title: str, ops: Sequence[Any]) -> Graph:
    nodes = {'x': (0.0, -0.5), 'LF': (1.0, 0.0), 'HF': (1.0, -1.0)}
    edges = [('x', 'LF', 'guided filter'), ('x', 'HF', 'x - LF')]
    for row, band in enumerate(('LF', 'HF')):
        prev = band
        for i, op in enumerate(ops):
            node = f'{band}{i}'
            nodes[node] = (2.0 + i, -float(row))
            edges.append((prev, node, op_label(op) if i else
                          f'1x1, {op_label(op)}'))
            prev = node
        edges.append((prev, 'out', ''))
    nodes['out'] = (2.0 + len(ops), -0.5)
    return dict(title=title, nodes=nodes, edges=edges)


def _ruas(title: str, ops: Sequence[Any]) -> Graph:
    if len(ops) != 7:
        return _chain(title, ops)
    nodes = {
        'x': (0.0, 0.0), 'r1': (1.0, 0.0), 'r2': (2.0, 0.0),
        'r3': (3.0, 0.0), 'r4': (4.0, 0.0), 'd1': (1.0, -1.0),
        'd2': (2.0, -1.0), 'd3': (3.0, -1.0), 'out': (5.0, -1.0)
    }
    lab = [op_label(o) for o in ops]
    edges = [('x', 'd1', lab[0]), ('x', 'r1', lab[1] + ' +id'),
             ('r1', 'd2', lab[2]), ('r1', 'r2', lab[3] + ' +id'),
             ('r2', 'd3', lab[4]), ('r2', 'r3', lab[5] + ' +id'),
             ('r3', 'r4', lab[6])]
    edges += [(n, 'out', '1x1' if n == 'r4' else '')
              for n in ('d1', 'd2', 'd3', 'r4')]
    return dict(title=title, nodes=nodes, edges=edges)


def _hbl_codec(title: str, ops: Sequence[Any], decoder: bool) -> Graph:
    """HBL encoder (x -op0-> h, two residual pairs, down, two pairs, down)
    or decoder (up, two pairs, up, two pairs, -op8-> y)."""
    labels = [op_label(o) for o in ops]
    nodes: Dict[str, Tuple[float, float]] = {}
    edges: List[Tuple[str, str, str]] = []
    x = 0.0

    def node(name: str, y: float = 0.0) -> str:
        nodes[name] = (x, y)
        return name

    prev = node('x' if not decoder else 'h')
    pairs = [(1, 2), (3, 4), (5, 6), (7, 8)] if not decoder else \
        [(0, 1), (2, 3), (4, 5), (6, 7)]
    if not decoder:
        x += 1
        edges.append((prev, node('h'), labels[0]))
        prev = 'h'
    for j, (i0, i1) in enumerate(pairs):
        if j in (0, 2) and decoder:  # ConvT 2x2 / s2 (+ skip of encoder)
            x += 1
            up = node(f'u{j // 2 + 1}')
            edges.append((prev, up, 'ConvT2x2 +e'))
            prev = up
        x += 1
        mid = node(f't{j + 1}', 0.6)
        x += 1
        out = node(f'a{j + 1}')
        edges += [(prev, mid, f'{labels[i0]}+ReLU'), (mid, out, labels[i1]),
                  (prev, out, '+id')]
        prev = out
        if j in (1, 3) and not decoder:  # Conv 2x2 / s2
            x += 1
            down = node(f'e{j // 2 + 1}')
            edges.append((prev, down, 'Conv2x2/s2'))
            prev = down
    if decoder:
        x += 1
        edges.append((prev, node('y'), labels[8]))
    return dict(title=title, nodes=nodes, edges=edges)


def _dcnas(title: str, arch: Any) -> List[Graph]:
    """DCNAS genotype: encoders + fusion panel, decoder panel."""
    from mmfusenas.models.gisr.dcnas_net import normalise_arch
    choices = normalise_arch(dict(arch))
    stages = 1 + max(int(k.split('.')[1]) for k in choices
                     if k.startswith('rgb_encoder.'))
    blocks = 1 + max(int(k.split('.')[2]) for k in choices
                     if k.startswith('rgb_encoder.'))
    nodes: Dict[str, Tuple[float, float]] = {'rgb': (0.0, 1.0),
                                             'depth': (0.0, -1.0)}
    edges: List[Tuple[str, str, str]] = []
    prev = dict(r='rgb', d='depth')
    x = 0
    for s in range(stages):
        for b in range(blocks):
            x += 1
            for row, prefix, y in (('r', 'rgb_encoder', 1.0),
                                   ('d', 'dep_encoder', -1.0)):
                name = f'{row}{s}{b}'
                nodes[name] = (float(x), y)
                edges.append((prev[row], name, choices[f'{prefix}.{s}.{b}']))
                prev[row] = name
        fused = f'F{s}'
        nodes[fused] = (float(x) + 0.5, 0.0)
        edges += [(prev['r'], fused, ''),
                  (prev['d'], fused, choices[f'fusion.{s}'])]
    enc = dict(title=f'{title}: encoders (RGB top, depth bottom) and the '
               'fusion op of every stage (F)', nodes=nodes, edges=edges)
    dec_ops = [choices[f'decoder.{s}.{b}'] for s in range(stages)
               for b in range(blocks)]
    dec = _chain(f'{title}: decoder blocks (stage-major; the fused '
                 'features F enter each stage)', dec_ops)
    return [enc, dec]


_BUILDERS = dict(
    SuccessiveCell=lambda t, ops: _chain(t, ops, pre='pre'),
    MultiScaleFusionCell=_multi_scale,
    DecompositionCell=_decomposition,
    RUASDistillationCell=_ruas,
    HBLEncoder=lambda t, ops: _hbl_codec(t, ops, decoder=False),
    HBLDecoder=lambda t, ops: _hbl_codec(t, ops, decoder=True))


def cell_graphs(cfg: Any, path: str = '') -> List[Graph]:
    """Every cell config under ``cfg`` as a graph (depth-first order)."""
    graphs: List[Graph] = []
    if isinstance(cfg, dict):
        ops = cfg.get('ops')
        kind = str(cfg.get('type', '')).split('.')[-1]
        if kind == 'DCNASNet' and cfg.get('arch'):
            return _dcnas(path or 'network', cfg['arch'])
        if isinstance(ops, (list, tuple)) and ops:
            title = f'{path or "network"}: {kind or "cell"}'
            graphs.append(_BUILDERS.get(kind, _chain)(title, list(ops)))
            return graphs
        for key, value in cfg.items():
            graphs += cell_graphs(value, f'{path}.{key}' if path else key)
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            graphs += cell_graphs(value, f'{path}[{i}]')
    return graphs


def draw_graphs(graphs: Sequence[Graph], out: Optional[str] = None,
                title: Optional[str] = None):
    """Draw graphs one panel each (nodes as circles, labelled arrows).

    Returns:
        matplotlib.figure.Figure
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    if not graphs:
        raise ValueError('nothing to draw: no cell config (a dict with an '
                         '`ops` list) was found')
    sizes: List[Tuple[float, float]] = []
    for g in graphs:
        xs = [p[0] for p in g['nodes'].values()]
        ys = [p[1] for p in g['nodes'].values()]
        sizes.append((max(xs) - min(xs) + 1, max(ys) - min(ys) + 1))
    width = max(w for w, _ in sizes) * 1.9 + 1
    fig, axes = plt.subplots(
        len(graphs), 1, figsize=(width, sum(h * 1.3 + 0.5 for _, h in sizes)),
        squeeze=False,
        gridspec_kw=dict(height_ratios=[h + 0.4 for _, h in sizes]))
    for ax, g in zip(axes[:, 0], graphs):
        nodes = g['nodes']
        for a, b, label in g['edges']:
            (x0, y0), (x1, y1) = nodes[a], nodes[b]
            ax.annotate('', xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle='->', color='0.35',
                                        shrinkA=11, shrinkB=11))
            if label:
                ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.09, label,
                        ha='center', va='bottom', fontsize=7,
                        color='tab:blue')
        for name, (x, y) in nodes.items():
            ax.scatter([x], [y], s=420, c='white', edgecolors='0.2',
                       zorder=3)
            ax.text(x, y, name, ha='center', va='center', fontsize=7,
                    zorder=4)
        xs = [p[0] for p in nodes.values()]
        ys = [p[1] for p in nodes.values()]
        ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
        ax.set_title(g['title'], fontsize=8, loc='left')
        ax.axis('off')
    if title:
        fig.suptitle(title)
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        fig.savefig(out, dpi=110)
    return fig


def draw_genotype(genotype: Any, out: Optional[str] = None,
                  title: Optional[str] = None):
    """Draw a :class:`~mmfusenas.models.mutables.Genotype`, a genotype file
    or a network / model config; returns ``(figure, graphs)``."""
    from mmfusenas.models.mutables import Genotype
    if isinstance(genotype, str):
        genotype = Genotype.load(genotype)
    cfg = genotype.network if isinstance(genotype, Genotype) else genotype
    graphs = cell_graphs(cfg)
    return draw_graphs(graphs, out, title), graphs
