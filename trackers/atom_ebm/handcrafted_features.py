"""Hand-crafted features for the online classifier: dense HOG plus opponent colour, in pure PyTorch (CPU or CUDA).

An alternative to backbone features where those are weak (the bundled model's backbone has random weights). Maps have
one cell per ``cell_size`` x ``cell_size`` crop pixels:
- 9 unsigned gradient-orientation bins (linear soft binning, magnitude-weighted, taken from the colour channel with the
  strongest gradient as in Dalal-Triggs HOG), each cell divided by the RMS energy of its 3 x 3 cell neighbourhood and
  clipped at ``HOG_CLIP``;
- the cell means of the three opponent colour channels (R-G, R+G-2B, R+G+B, each normalised to unit length).
Both groups are scaled to unit RMS per sample, so neither dominates the classifier's projection.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from trackers.atom_ebm.classifier import normalize_features

NUM_ORIENTATIONS = 9
HOG_CLIP = 0.2
NUM_CHANNELS = NUM_ORIENTATIONS + 3

_OPPONENT = torch.tensor([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0], [1.0, 1.0, 1.0]])
_OPPONENT = _OPPONENT / _OPPONENT.norm(dim=1, keepdim=True)


def gradient_orientation_bins(images: torch.Tensor) -> torch.Tensor:
    """Magnitude-weighted soft orientation histogram per pixel: [B, 3, H, W] -> [B, NUM_ORIENTATIONS, H, W].

    Central differences per colour channel (replicate border); each pixel uses the channel with the largest gradient
    magnitude (the first on a tie). The unsigned angle in [0, pi) is split linearly between its two nearest bin
    centres (k + 0.5) pi / 9, circularly (bin 8 neighbours bin 0).
    """
    padded = F.pad(images, (1, 1, 1, 1), mode="replicate")
    dx = padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]
    dy = padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]
    magnitude2 = dx * dx + dy * dy
    # max, not argmax: on a contiguous (NCHW) batch argmax over a dimension of 3 is many times slower on the CPU;
    # both take the first channel on a tie
    best_magnitude2, best = magnitude2.max(dim=1, keepdim=True)
    magnitude = best_magnitude2.sqrt()
    angle = torch.remainder(torch.atan2(dy.gather(1, best), dx.gather(1, best)), math.pi)  # [B, 1, H, W] in [0, pi]
    bin_width = math.pi / NUM_ORIENTATIONS
    below = torch.floor(angle / bin_width - 0.5)  # the bin centre below the angle: -1 (wraps to 8) .. 8
    bins = images.new_zeros(images.shape[0], NUM_ORIENTATIONS, *images.shape[2:])
    # only the two nearest bins get a weight; each is written once per pixel, so no sum depends on an order
    for offset in (0.0, 1.0):
        index = below + offset  # -1 .. 9, taken round the circle (float ops: remainder is slow on the CPU)
        index = torch.where(index < 0, index + NUM_ORIENTATIONS, index)
        index = torch.where(index >= NUM_ORIENTATIONS, index - NUM_ORIENTATIONS, index)
        distance = torch.remainder(angle - (index + 0.5) * bin_width + math.pi / 2, math.pi) - math.pi / 2
        bins.scatter_add_(1, index.long(), magnitude * torch.clamp(1.0 - distance.abs() / bin_width, min=0.0))
    return bins


def normalize_cells(hog: torch.Tensor) -> torch.Tensor:
    """Divide each cell of ``hog`` [B, K, h, w] by the RMS of the cell-vector norms in its 3 x 3 neighbourhood (cells
    inside the map only), then clip at ``HOG_CLIP``: local contrast normalisation as in Dalal-Triggs blocks."""
    energy = F.avg_pool2d(hog.pow(2).sum(dim=1, keepdim=True), 3, stride=1, padding=1, count_include_pad=False)
    return torch.clamp(hog / torch.sqrt(energy + 1e-10), max=HOG_CLIP)


def hog_color_features(images: torch.Tensor, cell_size: int) -> torch.Tensor:
    """[B, 3, H, W] RGB images (the tracker passes ImageNet-normalised crops; the values enter the colour channels
    and the strongest-channel choice as given) -> [B, NUM_CHANNELS, H / cell, W / cell] features."""
    if images.shape[-1] % cell_size or images.shape[-2] % cell_size:
        raise ValueError(f"image size {tuple(images.shape[-2:])} is not a multiple of the cell size {cell_size}")
    hog = normalize_cells(F.avg_pool2d(gradient_orientation_bins(images), cell_size))
    colour = F.conv2d(F.avg_pool2d(images, cell_size), _OPPONENT.to(images).view(3, 3, 1, 1))
    return torch.cat((normalize_features(hog), normalize_features(colour)), dim=1)
