from .activation_rewrite import prelu_to_leaky_relu
from .batchnorm_folding import FoldReport, fold_batchnorm, fold_conv_bn_
from .checkpoint import (allow_mmengine_checkpoint_globals,
                         check_checkpoint_file, find_resumable_checkpoint,
                         load_legacy_checkpoint, nonfinite_tensors)
from .colorspace import (luminance, rgb_to_gray, rgb_to_ycbcr,
                         ycbcr_to_rgb)
from .module_hooks import has_forward_hooks
from .fileio import (atomic_write, current_umask, decode_image, fsync_dir,
                     read_image, read_json, read_stored_run)
from .process_units import (AdoptedProcess, ProcessUnit, UnitProgress,
                            launch_logged, launch_unit_worker,
                            map_in_processes, pid_alive,
                            run_process_units)
from .cli_modes import run_mode, split_mode
from .progress import track
from .workdir_lock import WorkDirLock, WorkDirLockedError
from .setup_env import register_all_modules, temporary_environment

__all__ = [
    'rgb_to_ycbcr', 'ycbcr_to_rgb', 'rgb_to_gray', 'luminance',
    'allow_mmengine_checkpoint_globals', 'load_legacy_checkpoint',
    'atomic_write', 'current_umask', 'fsync_dir', 'read_stored_run',
    'decode_image', 'read_image', 'read_json',
    'check_checkpoint_file',
    'find_resumable_checkpoint', 'nonfinite_tensors', 'WorkDirLock',
    'WorkDirLockedError', 'register_all_modules', 'track', 'fold_batchnorm',
    'fold_conv_bn_', 'FoldReport', 'prelu_to_leaky_relu', 'ProcessUnit',
    'UnitProgress', 'run_process_units', 'launch_logged', 'launch_unit_worker',
    'pid_alive', 'AdoptedProcess', 'map_in_processes', 'run_mode',
    'split_mode', 'temporary_environment', 'has_forward_hooks'
]
