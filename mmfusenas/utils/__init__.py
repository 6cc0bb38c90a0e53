"""Utilities shared by every layer; each is imported on first use."""
from .lazy import lazy_exports

_EXPORTS = {
    '.batchnorm_folding': ['fold_batchnorm'],
    '.checkpoint': [
        'allow_mmengine_checkpoint_globals', 'read_checkpoint',
        'find_resumable_checkpoint', 'load_legacy_checkpoint',
        'nonfinite_tensors'
    ],
    '.colorspace': ['luminance', 'rgb_to_ycbcr', 'ycbcr_to_rgb'],
    '.fileio': ['atomic_write', 'decode_image', 'read_image', 'read_json'],
    '.progress': ['track'],
    '.workdir_lock': ['WorkDirLock', 'WorkDirLockedError'],
    '.setup_env': ['register_all_modules'],
    '.tool_loader': ['load_tool'],
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
