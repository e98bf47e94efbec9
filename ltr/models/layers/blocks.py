"""Small building blocks of the IoU-Net (key names match pytracking checkpoints)."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["conv_block", "LinearBlock"]


def conv_block(in_planes: int, out_planes: int, kernel_size: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    """``Sequential(Conv2d(bias=True), BatchNorm2d, ReLU)`` — state-dict keys ``0.*`` (conv) and ``1.*`` (BN)."""
    return nn.Sequential(
        nn.Conv2d(in_planes, out_planes, kernel_size=kernel_size, stride=stride, padding=padding, bias=True),
        nn.BatchNorm2d(out_planes),
        nn.ReLU(inplace=True),
    )


class LinearBlock(nn.Module):
    """Linear layer over a flattened [N, C, k, k] input, then BatchNorm2d on an [N, out, 1, 1] view, then ReLU.

    Args:
        in_planes: channels C of the input.
        out_planes: output features.
        input_sz: spatial size k of the (square) input.
    """

    def __init__(self, in_planes: int, out_planes: int, input_sz: int):
        super().__init__()
        self.linear = nn.Linear(in_planes * input_sz * input_sz, out_planes, bias=True)
        self.bn = nn.BatchNorm2d(out_planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, k, k] -> [N, out_planes]."""
        x = self.linear(x.reshape(x.shape[0], -1))
        x = self.bn(x.reshape(x.shape[0], x.shape[1], 1, 1))
        return self.relu(x).reshape(x.shape[0], -1)
