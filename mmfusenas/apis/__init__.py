"""Inference (``init_model``, ``inference_model``, ``FusionInferencer``)
and deployment (optimised inference, export)."""
from .deploy import (OnnxRuntimeNetwork, PackedInputs, add_optimize_argument,
                     core_network, export_network, optimize_for_inference,
                     parse_optimize)
from .inference import (build_batch, config_modalities, inference_enhancer,
                        inference_fusion, inference_model, init_model,
                        load_config, model_family, result_image,
                        test_pipeline_cfg)
from .inferencer import (FusionInferencer, add_inferencer_arguments,
                         inferencer_from_args, resolve_model_name)

__all__ = [
    'OnnxRuntimeNetwork', 'PackedInputs', 'add_optimize_argument',
    'core_network', 'export_network', 'optimize_for_inference',
    'parse_optimize', 'build_batch', 'config_modalities',
    'inference_enhancer', 'inference_fusion', 'inference_model', 'init_model',
    'load_config', 'model_family', 'result_image', 'test_pipeline_cfg',
    'FusionInferencer', 'add_inferencer_arguments', 'inferencer_from_args',
    'resolve_model_name'
]
