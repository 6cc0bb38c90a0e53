"""Pictures of architectures, training logs and paired data."""
from .genotype_drawing import (cell_graphs, draw_genotype, draw_graphs,
                               op_label)
from .panels import (PRED_IMAGE_FIELDS, draw_boxes, draw_mask, hstack,
                     prediction_row, sample_panels, source_images, titled,
                     to_bgr)
from .log_plots import (arch_series, load_scalars, plot_arch_evolution,
                        plot_curves, series, train_time)

__all__ = [
    'cell_graphs', 'draw_graphs', 'draw_genotype', 'op_label',
    'load_scalars', 'series', 'plot_curves', 'arch_series',
    'plot_arch_evolution', 'train_time', 'to_bgr', 'draw_boxes',
    'draw_mask', 'titled', 'hstack', 'sample_panels', 'source_images',
    'prediction_row', 'PRED_IMAGE_FIELDS'
]
