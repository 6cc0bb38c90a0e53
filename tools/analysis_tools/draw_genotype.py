"""Draw a searched architecture: cells as DAGs with the ops on the edges.

``python tools/analysis_tools/draw_genotype.py SRC --out arch.png``

``SRC`` is a genotype file written by a search (``genotypes/*.yaml`` /
``.json``, ``GenotypeExportHook``), a config (its ``model`` is drawn, e.g.
``configs/tim/fusion_ivif_official.py`` or a retrain config) or a search
checkpoint together with ``--config`` (the genotype is derived from the
checkpoint's architecture parameters, ``model.derive_genotype()``). TIM's
two levels (stage-1 cells, stage-2 branch cells), RUAS stages and any cell
config with an ``ops`` list are drawn, one panel per cell
(:mod:`mmfusenas.visualization.genotype_drawing`). PNG, SVG or PDF by the
extension of ``--out``.

What is drawn is validated first: a genotype file as
:meth:`~mmfusenas.models.mutables.Genotype.load` does (against its
recorded search space, and every operator name against the registered
operators), a config's operator names with
:func:`~mmfusenas.models.mutables.genotype.check_op_names`; an invalid
source is an error naming the file, the key / edge path and the unknown
operator, and nothing is written.
"""
import argparse
import os.path as osp
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.visualization import draw_genotype  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw a genotype')
    parser.add_argument('src', help='genotype file, config, or checkpoint '
                        '(with --config)')
    parser.add_argument('--config', help='search config of a checkpoint')
    parser.add_argument('--out', required=True, help='output picture')
    parser.add_argument('--title')
    return parser.parse_args(argv)


def load_source(src: str, config: Optional[str]):
    """A Genotype or a network config from the command-line source."""
    if not osp.isfile(src):
        raise FileNotFoundError(f'not found: {src}')
    ext = osp.splitext(src)[1].lower()
    if config is not None:
        from mmfusenas.apis import init_model
        model = init_model(config, src)
        if not hasattr(model, 'derive_genotype'):
            raise TypeError(f'{config}: {type(model).__name__} is not a '
                            'search algorithm (no derive_genotype)')
        return model.derive_genotype()
    if ext in ('.yaml', '.yml', '.json'):
        from mmfusenas.models.mutables import Genotype
        return Genotype.load(src)
    if ext == '.py':
        from mmengine.config import Config

        from mmfusenas.models.mutables.genotype import check_op_names
        model = Config.fromfile(src).model.to_dict()
        check_op_names(model, model, where=src)
        return model
    raise ValueError(f'{src}: expected a genotype (.yaml / .json), a config '
                     '(.py), or a checkpoint with --config')


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    source = load_source(args.src, args.config)
    fig, graphs = draw_genotype(source, args.out, args.title or
                                osp.basename(args.src))
    print(f'drew {len(graphs)} cell(s) to {args.out}: ' +
          ', '.join(g['title'] for g in graphs))
    return graphs


if __name__ == '__main__':
    main()
