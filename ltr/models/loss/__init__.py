"""Training objectives for the IoU-Net."""
from ltr.models.loss.ebm import ebm_nll_loss, iou_mse_loss, kl_regression_loss

__all__ = ["ebm_nll_loss", "iou_mse_loss", "kl_regression_loss"]
