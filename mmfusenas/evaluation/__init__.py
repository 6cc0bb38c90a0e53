"""Evaluation: pure functions (``functional``), the presets binding metric
names to them (``fusion_presets``) and MMEngine metrics (``metrics``).
Import each from its module: this one re-exports nothing, so the fusion
evaluator imports neither mmdet nor mmcv, and its ``--help`` not torch."""
