"""Helpers shared by the search hooks."""
from mmengine.model import is_model_wrapper


def search_algorithm(runner, hook: str):
    """The runner's model, unwrapped, checked to be a search algorithm.

    Args:
        runner (Runner): The runner.
        hook (str): The calling hook's name, for the error message.

    Returns:
        nn.Module: A model with ``arch_params`` and ``derive_genotype()``
        (e.g. :class:`~mmfusenas.search.BilevelSearchAlgorithm`).
    """
    model = runner.model
    if is_model_wrapper(model):
        model = model.module
    if not hasattr(model, 'arch_params') or not callable(
            getattr(model, 'derive_genotype', None)):
        raise TypeError(
            f'{hook} needs a search algorithm with arch_params and '
            f'derive_genotype() (e.g. BilevelSearchAlgorithm), but the model '
            f'is a {type(model).__name__}')
    return model
