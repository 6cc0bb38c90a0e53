"""Pure-function metric layer shared by the MMEngine metrics and the CLI
(each name imported on first use)."""
from mmfusenas.utils.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__, {
        '.deblur': ['shift_max_psnr', 'shift_max_psnr_ssim'],
        '.depth': ['denormalize_depth', 'depth_mae', 'depth_rmse'],
        '.enhancement': ['LPIPS', 'gt_mean_correct', 'psnr', 'ssim_uint8'],
        '.fmi': ['fmi'],
        '.fusion': [
            'DEFAULT_FUSION_METRICS', 'DEFAULT_FUSION_PRESET',
            'FUSION_METRICS', 'FUSION_PRESETS', 'FusionPairCache',
            'average_gradient', 'cc', 'compute_fusion_metrics', 'cv2_bgr2gray',
            'entropy', 'fusion_mi', 'fusion_ms_ssim', 'fusion_psnr',
            'fusion_ssim', 'fusion_vif', 'matlab_rgb2gray', 'ms_ssim',
            'mutual_information', 'nabf', 'qabf', 'qabf_max',
            'resolve_metrics', 'scd', 'spatial_frequency', 'ssim',
            'standard_deviation', 'summed_metrics_note', 'vif'
        ],
        '.fusion_torch': ['TORCH_FUSION_FNS', 'compute_fusion_metrics_torch'],
        '.gisr': ['GISR_PRESETS', 'gisr_errors', 'resolve_gisr_preset'],
        '.pansharpening': ['ergas', 'q_index', 'sam', 'scc'],
    })

__all__ = [
    'FUSION_METRICS', 'FUSION_PRESETS', 'DEFAULT_FUSION_METRICS',
    'DEFAULT_FUSION_PRESET', 'summed_metrics_note', 'compute_fusion_metrics',
    'resolve_metrics', 'FusionPairCache', 'compute_fusion_metrics_torch',
    'TORCH_FUSION_FNS', 'entropy', 'standard_deviation', 'spatial_frequency',
    'average_gradient', 'mutual_information', 'fusion_mi', 'fmi', 'vif',
    'fusion_vif', 'qabf', 'qabf_max', 'nabf', 'scd', 'cc', 'ssim',
    'fusion_ssim', 'ms_ssim', 'fusion_ms_ssim', 'fusion_psnr', 'cv2_bgr2gray',
    'matlab_rgb2gray', 'psnr', 'ssim_uint8', 'gt_mean_correct', 'LPIPS',
    'denormalize_depth', 'depth_rmse', 'depth_mae', 'shift_max_psnr',
    'shift_max_psnr_ssim', 'sam', 'ergas', 'scc', 'q_index', 'GISR_PRESETS',
    'gisr_errors', 'resolve_gisr_preset'
]
