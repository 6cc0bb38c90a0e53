from .algorithm_ddp import AlgorithmDistributedDataParallel

__all__ = ['AlgorithmDistributedDataParallel']
