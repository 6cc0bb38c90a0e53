"""Evaluation: pure functions (``functional``) and MMEngine metrics
(``metrics``). Import each from its subpackage: this one re-exports nothing,
so the fusion evaluator, which needs ``functional`` only, imports neither
mmdet nor mmcv."""
