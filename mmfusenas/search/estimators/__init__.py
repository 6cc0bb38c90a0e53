"""Resource estimators: parameters, FLOPs and latency of whole models,
per-choice-point latency tables and path-cost tables (the regularisers
built on them are in :mod:`mmfusenas.search.regularizers`)."""
from .config_cost import config_cost, largest_width
from .flop_counter import FlopCount
from .path_cost_table import COST_METRICS, PathCostTable
from .latency_table import LatencyTable, build_latency_table
from .resource_estimator import (LatencyStats, ResourceConstraintError,
                                 ResourceEstimator, check_resource_constraints,
                                 check_space_budget, count_buffers,
                                 count_flops, count_params, device_name,
                                 inference_mode, make_inputs, measure_latency,
                                 module_device, num_threads, split_inputs)

__all__ = [
    'FlopCount', 'LatencyTable', 'build_latency_table',
    'LatencyStats', 'ResourceConstraintError',
    'ResourceEstimator', 'check_resource_constraints', 'check_space_budget',
    'count_buffers', 'count_flops', 'count_params', 'device_name',
    'inference_mode', 'make_inputs', 'measure_latency', 'module_device',
    'num_threads', 'split_inputs', 'COST_METRICS', 'PathCostTable',
    'config_cost', 'largest_width'
]
