"""Inference APIs (``init_model`` and one function per task family) and
deployment helpers (optimised inference, export), and
``FusionInferencer`` (MMEngine's ``BaseInferencer``)."""
from .deploy import (ALL_OPTIMIZATIONS, OPTIMIZATIONS, ExportedRunner,
                     OnnxRuntimeNetwork, PackedInputs,
                     add_optimize_argument, compare_outputs, core_network,
                     export_network, optimize_for_inference, parse_optimize)
from .inference import (build_batch, check_dataset_files,
                        config_modalities, format_skipped, inference_chain,
                        inference_enhancer, inference_fusion, inference_gisr,
                        inference_model, inference_restorer, init_model,
                        load_config, make_data_info, model_family,
                        refuse_unreadable, result_image, test_pipeline_cfg)
from .inferencer import (NAME_PREFIX, FusionInferencer,
                         add_inferencer_arguments, configs_dir,
                         inferencer_from_args, resolve_model_name)
from .tim_official import (TIM_OFFICIAL, batch_statistics, fuse_tim_official,
                           read_official)

__all__ = [
    'build_batch', 'check_dataset_files', 'format_skipped',
    'refuse_unreadable', 'model_family',
    'init_model', 'inference_fusion', 'inference_enhancer',
    'inference_chain', 'inference_gisr', 'inference_restorer',
    'inference_model', 'result_image', 'load_config', 'make_data_info',
    'test_pipeline_cfg', 'config_modalities', 'TIM_OFFICIAL',
    'fuse_tim_official', 'read_official', 'batch_statistics',
    'OPTIMIZATIONS', 'parse_optimize', 'optimize_for_inference',
    'core_network', 'export_network', 'ExportedRunner', 'compare_outputs',
    'add_optimize_argument', 'PackedInputs', 'OnnxRuntimeNetwork',
    'ALL_OPTIMIZATIONS', 'FusionInferencer', 'resolve_model_name',
    'configs_dir', 'NAME_PREFIX', 'add_inferencer_arguments',
    'inferencer_from_args'
]
