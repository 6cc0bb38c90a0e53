"""Performance predictors of one-shot paths and their losses."""
from .bgru_predictor import (BGRUPredictor, load_predictor, predict_scores,
                             save_predictor, train_predictor)
from .ranking_losses import (PREDICTOR_LOSSES, kendall_tau, l1_loss, l2_loss,
                             ranknet_loss, spearman_rho)

__all__ = [
    'BGRUPredictor', 'load_predictor', 'predict_scores', 'save_predictor',
    'train_predictor', 'PREDICTOR_LOSSES', 'kendall_tau', 'l1_loss',
    'l2_loss', 'ranknet_loss', 'spearman_rho'
]
