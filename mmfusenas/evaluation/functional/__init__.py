"""Pure-function metric layer shared by the MMEngine metrics and the CLI
(each name imported on first use)."""
from mmfusenas.utils.lazy import lazy_exports

_EXPORTS = {
    '.deblur': ['shift_max_psnr', 'shift_max_psnr_ssim'],
    '.enhancement': ['LPIPS', 'gt_mean_correct', 'psnr', 'ssim_uint8'],
    '.fusion': [
        'average_gradient', 'cc', 'compute_fusion_metrics', 'entropy',
        'fmi', 'fusion_mi', 'fusion_ms_ssim', 'fusion_psnr',
        'fusion_ssim', 'fusion_vif', 'ms_ssim', 'mutual_information',
        'nabf', 'qabf', 'qabf_max', 'scd', 'spatial_frequency', 'ssim',
        'standard_deviation', 'vif'
    ],
    '.fusion_presets': [
        'DEFAULT_FUSION_METRICS', 'DEFAULT_FUSION_PRESET',
        'FUSION_METRICS', 'FUSION_PRESETS', 'cv2_bgr2gray',
        'matlab_rgb2gray', 'pil_gray', 'resolve_metrics',
        'summed_metrics_note'
    ],
    '.gisr': [
        'GISR_PRESETS', 'denormalize_depth', 'gisr_errors',
        'resolve_gisr_preset'
    ],
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
