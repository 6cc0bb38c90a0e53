"""Architecture search: bilevel strategies and architecture regularisers."""
from .regularizers import operation_sensitive_reg
from .strategies import (BaseBilevelStrategy, BilevelProblem,
                         DartsFirstOrderStrategy, DartsSecondOrderStrategy,
                         HyperGradient, IASStrategy, SearchableModel)

__all__ = [
    'BaseBilevelStrategy', 'BilevelProblem', 'HyperGradient',
    'SearchableModel', 'DartsFirstOrderStrategy', 'DartsSecondOrderStrategy',
    'IASStrategy', 'operation_sensitive_reg'
]
