from .pmi_loop import (PMILoop, inner_update, meta_gradient, meta_parameters,
                       task_loss)

__all__ = [
    'PMILoop', 'meta_gradient', 'meta_parameters', 'inner_update', 'task_loss'
]
