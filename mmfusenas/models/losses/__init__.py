from .fusion_losses import MaxGradientLoss, MaxIntensityLoss, sobel_magnitude

__all__ = ['MaxIntensityLoss', 'MaxGradientLoss', 'sobel_magnitude']
