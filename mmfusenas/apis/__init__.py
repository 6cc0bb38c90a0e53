"""Inference (``init_model``, ``inference_model``, ``FusionInferencer``)
and deployment (optimised inference, export); each name imported on first
use."""
from mmfusenas.utils.lazy import lazy_exports

_EXPORTS = {
    '.deploy': [
        'OnnxRuntimeNetwork', 'PackedInputs', 'add_optimize_argument',
        'core_network', 'export_network', 'optimize_for_inference',
        'parse_optimize'
    ],
    '.inference': [
        'build_batch', 'config_modalities', 'inference_enhancer',
        'inference_fusion', 'inference_model', 'init_model', 'load_config',
        'model_family', 'result_image', 'test_pipeline_cfg'
    ],
    '.inferencer': [
        'FusionInferencer', 'add_inferencer_arguments',
        'inferencer_from_args', 'resolve_model_name'
    ],
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
