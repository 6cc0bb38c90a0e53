"""Inference APIs (``init_model`` and one function per task family)."""
from .inference import (build_batch, check_dataset_files,
                        config_modalities, format_skipped, inference_chain,
                        inference_enhancer, inference_fusion, inference_gisr,
                        inference_model, inference_restorer, init_model,
                        load_config, make_data_info, model_family,
                        refuse_unreadable,
                        result_image, test_pipeline_cfg)
from .tim_official import (TIM_OFFICIAL, batch_statistics, fuse_tim_official,
                           read_official)

__all__ = [
    'build_batch', 'check_dataset_files', 'format_skipped',
    'refuse_unreadable', 'model_family',
    'init_model', 'inference_fusion', 'inference_enhancer',
    'inference_chain', 'inference_gisr', 'inference_restorer',
    'inference_model', 'result_image', 'load_config', 'make_data_info',
    'test_pipeline_cfg', 'config_modalities', 'TIM_OFFICIAL',
    'fuse_tim_official', 'read_official', 'batch_statistics'
]
