from .bilevel_loops import (BilevelEpochBasedTrainLoop,
                            BilevelIterBasedTrainLoop)

__all__ = ['BilevelEpochBasedTrainLoop', 'BilevelIterBasedTrainLoop']
