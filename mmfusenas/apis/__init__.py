"""Inference (``init_model``, ``inference_model``, ``FusionInferencer``),
deployment (optimised inference, export) and the scoring of fused images
on disk (``fusion_files``, ``ranking``); each name imported on first use."""
from mmfusenas.utils.lazy import lazy_exports

_EXPORTS = {
    '.deploy': [
        'ExportedRunner', 'OnnxRuntimeNetwork', 'PackedInputs',
        'add_optimize_argument', 'compare_outputs', 'core_network',
        'export_network', 'optimize_for_inference', 'parse_optimize'
    ],
    '.inference': [
        'build_batch', 'check_dataset_files', 'config_modalities',
        'format_skipped', 'inference_enhancer', 'inference_fusion',
        'inference_model', 'init_model', 'load_config', 'model_family',
        'refuse_unreadable', 'result_image', 'test_pipeline_cfg'
    ],
    '.inferencer': [
        'FusionInferencer', 'add_inferencer_arguments',
        'inferencer_from_args', 'resolve_model_name'
    ],
    '.tim_official': ['TIM_OFFICIAL', 'fuse_tim_official'],
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
