"""Inference (``init_model``, ``inference_model``, ``FusionInferencer``),
deployment (optimised inference, export) and the scoring of fused images
on disk (``fusion_files``, ``ranking``); each name imported on first use."""
from mmfusenas.utils.lazy import lazy_exports

_EXPORTS = {
    '.deploy': [
        'ALL_OPTIMIZATIONS', 'OPTIMIZATIONS', 'ExportedRunner',
        'OnnxRuntimeNetwork', 'PackedInputs', 'add_optimize_argument',
        'compare_outputs', 'core_network', 'export_network',
        'optimize_for_inference', 'parse_optimize'
    ],
    '.inference': [
        'build_batch', 'check_dataset_files', 'config_modalities',
        'format_skipped', 'inference_enhancer', 'inference_fusion',
        'inference_model', 'init_model', 'load_config', 'make_data_info',
        'model_family', 'refuse_unreadable', 'result_image',
        'test_pipeline_cfg'
    ],
    '.inferencer': [
        'NAME_PREFIX', 'FusionInferencer', 'add_inferencer_arguments',
        'configs_dir', 'inferencer_from_args', 'resolve_model_name'
    ],
    '.tim_official': [
        'TIM_OFFICIAL', 'batch_statistics', 'fuse_tim_official',
        'read_official'
    ],
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
