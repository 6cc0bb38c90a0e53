"""Pure-function metric layer shared by the MMEngine metrics and the CLI
(the presets binding names to these functions: ``..fusion_presets``)."""
from .deblur import shift_max_psnr, shift_max_psnr_ssim
from .enhancement import LPIPS, gt_mean_correct, psnr, ssim_uint8
from .fusion import (average_gradient, cc, compute_fusion_metrics, entropy,
                     fmi, fusion_mi, fusion_ms_ssim, fusion_psnr, fusion_ssim,
                     fusion_vif, ms_ssim, mutual_information, nabf, qabf,
                     qabf_max, scd, spatial_frequency, ssim,
                     standard_deviation, vif)
from .gisr import (GISR_PRESETS, denormalize_depth, gisr_errors,
                   resolve_gisr_preset)

__all__ = [
    'shift_max_psnr', 'shift_max_psnr_ssim', 'LPIPS', 'gt_mean_correct',
    'psnr', 'ssim_uint8', 'average_gradient', 'cc', 'compute_fusion_metrics',
    'entropy', 'fmi', 'fusion_mi', 'fusion_ms_ssim', 'fusion_psnr',
    'fusion_ssim', 'fusion_vif', 'ms_ssim', 'mutual_information', 'nabf',
    'qabf', 'qabf_max', 'scd', 'spatial_frequency', 'ssim',
    'standard_deviation', 'vif', 'GISR_PRESETS', 'denormalize_depth',
    'gisr_errors', 'resolve_gisr_preset'
]
