"""Networks: backbones, the IoU-Net box regressor, losses and the model registry."""
