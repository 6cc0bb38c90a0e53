"""Performance predictors of one-shot paths and their losses."""
from .bgru_predictor import (LABEL_NORMS, BGRUPredictor, check_label_norm,
                             load_predictor, normalize_labels, predict_scores,
                             save_predictor, train_predictor)
from .ranking_losses import (PREDICTOR_LOSSES, kendall_tau, l1_loss, l2_loss,
                             ranknet_loss, spearman_rho)

__all__ = [
    'LABEL_NORMS', 'BGRUPredictor', 'check_label_norm', 'load_predictor',
    'normalize_labels', 'predict_scores', 'save_predictor', 'train_predictor',
    'PREDICTOR_LOSSES', 'kendall_tau', 'l1_loss', 'l2_loss', 'ranknet_loss',
    'spearman_rho'
]
