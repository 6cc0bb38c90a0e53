"""Parameters, FLOPs and latency of models; latency and path-cost tables."""
from .config_cost import config_cost, largest_width
from .path_cost_table import COST_METRICS, PathCostTable
from .latency_table import LatencyTable, build_latency_table
from .resource_estimator import (FlopCount, LatencyStats,
                                 ResourceConstraintError, ResourceEstimator,
                                 check_resource_constraints,
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
