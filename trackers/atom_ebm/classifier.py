"""ATOM's online target classifier: a factorized convolution (1x1 projection + one small filter).

Shapes: raw features x [N, C, H, W] (e.g. backbone layer3, C = 256, or HOG + colour, C = 12), projection
P [D, C, 1, 1] (D = compressed_dim), filter f [1, D, k, k] (k = filter_size), scores [N, 1, H, W]. The filter
convolution is "same" mode: padding k/2 and, for an even k, the last row and column dropped, so the output keeps the
H x W size.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def mlu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """The "mlu" activation: ELU(alpha) of a leaky ReLU with negative slope 1/alpha.

    Identity for x >= 0 and ``alpha * (exp(x / alpha) - 1)`` for x < 0.
    """
    return F.elu(F.leaky_relu(x, 1.0 / alpha), alpha)


def normalize_features(features: torch.Tensor) -> torch.Tensor:
    """Divide every sample [C, H, W] of ``features`` [N, C, H, W] by its RMS value (ATOM's normalize_power 2)."""
    num = features.shape[1] * features.shape[2] * features.shape[3]
    energy = features.pow(2).sum(dim=(1, 2, 3), keepdim=True) / num
    return features / torch.sqrt(energy + 1e-10)


def combine_feature_blocks(blocks: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate feature blocks [N, C_i, H, W] so that each carries the same energy, then normalise the whole
    (:func:`normalize_features`); a single block is just normalised."""
    weighted = [normalize_features(block) / math.sqrt(block.shape[1]) for block in blocks]
    return normalize_features(torch.cat(weighted, dim=1))


def project(features: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """Apply the 1x1 projection ``projection`` [D, C, 1, 1] to ``features`` [N, C, H, W] -> [N, D, H, W]."""
    return F.conv2d(features, projection)


def apply_filter(features: torch.Tensor, filt: torch.Tensor) -> torch.Tensor:
    """Same-size correlation of ``features`` [N, D, H, W] with ``filt`` [1, D, k, k] -> [N, 1, H, W]."""
    k = filt.shape[-1]
    scores = F.conv2d(features, filt, padding=k // 2)
    if k % 2 == 0:
        scores = scores[..., :-1, :-1]
    return scores


def gaussian_label(centers: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """Gaussian labels exp(-d^2 / 2 sigma^2) (peak 1) on a size x size grid with coordinates -(size-1)/2 ... (size-1)/2.

    Args:
        centers: [N, 2] (row, col) label centres in grid coordinates (0 = grid centre).
        size: grid side in cells.
        sigma: standard deviation in cells.

    Returns:
        [N, 1, size, size] labels.
    """
    coords = torch.arange(size, dtype=centers.dtype, device=centers.device) - (size - 1) / 2
    rows = torch.exp(-0.5 * ((coords[None, :] - centers[:, :1]) / sigma) ** 2)
    cols = torch.exp(-0.5 * ((coords[None, :] - centers[:, 1:]) / sigma) ** 2)
    return (rows[:, :, None] * cols[:, None, :])[:, None]


class FactorizedConvClassifier:
    """Projection + filter parameters and the weighted least-squares residuals they are trained on.

    Objective: sum_j w_j ||mlu(f * (P x_j)) - y_j||^2 + filter_reg ||f||^2 + projection_reg ||P||^2.
    """

    def __init__(self, in_dim: int, compressed_dim: int, filter_size: int, *, mlu_alpha: float,
                 filter_reg: float, projection_reg: float, device: torch.device | str = "cpu",
                 generator: torch.Generator | None = None):
        """Random initialisation as ATOM: P ~ N(0, 1/in_dim), f ~ N(0, (1/numel(f))^2)."""
        self.mlu_alpha = mlu_alpha
        self.filter_reg = filter_reg
        self.projection_reg = projection_reg
        self.projection = torch.randn(compressed_dim, in_dim, 1, 1, generator=generator).to(device) / math.sqrt(in_dim)
        numel = compressed_dim * filter_size * filter_size
        self.filter = torch.randn(1, compressed_dim, filter_size, filter_size, generator=generator).to(device) / numel

    def scores(self, projected: torch.Tensor) -> torch.Tensor:
        """Raw filter response (no activation) of projected features [N, D, H, W] -> [N, 1, H, W]."""
        return apply_filter(projected, self.filter)

    def joint_problem(self, samples: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor):
        """Linearisation factory for (filter, projection) on raw samples [N, C, H, W] (for Gauss-Newton)."""
        return lambda params: FactorizedConvLinearization(params[0], samples, labels, weights, self.mlu_alpha,
                                                          projection=params[1])

    def filter_problem(self, projected: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor):
        """Linearisation factory for the filter alone on projected samples [N, D, H, W]."""
        return lambda params: FactorizedConvLinearization(params[0], projected, labels, weights, self.mlu_alpha)


class PaddedSamples:
    """Samples [N, C, H, W], zero-padded and flattened channels-last, for single-filter correlations as GEMMs.

    A correlation with one [C, k, k] filter is a matrix product [N*Hp*Wp, C] @ [C, k*k] ("taps") followed by a sum
    of k*k shifted slices; its filter gradient is the transposed product with k*k shifted copies of the output
    gradient. On CPU this is several times faster than ``conv2d`` with one output channel. Same "same"-mode
    semantics as ``apply_filter``.
    """

    def __init__(self, samples: torch.Tensor, kernel_size: int):
        self.num, self.channels, self.height, self.width = samples.shape
        self.kernel_size = kernel_size
        pad = kernel_size // 2
        padded = F.pad(samples, (pad, pad, pad, pad))
        self.padded_hw = padded.shape[-2:]
        self.flat = padded.permute(0, 2, 3, 1).reshape(-1, self.channels)

    def _offsets(self):
        k = self.kernel_size
        return [(t, s, t * k + s) for t in range(k) for s in range(k)]

    def correlate(self, filt: torch.Tensor) -> torch.Tensor:
        """Scores [N, 1, H, W] of the filter [1, C, k, k]."""
        k2 = self.kernel_size**2
        taps = (self.flat @ filt[0].reshape(self.channels, k2)).view(self.num, *self.padded_hw, k2)
        out = taps.new_zeros(self.num, self.height, self.width)
        for t, s, index in self._offsets():
            out += taps[:, t:t + self.height, s:s + self.width, index]
        return out[:, None]

    def filter_gradient(self, grad: torch.Tensor) -> torch.Tensor:
        """d(sum(grad * correlate(f))) / d f = [1, C, k, k] for an output gradient [N, 1, H, W]."""
        k2 = self.kernel_size**2
        shifted = grad.new_zeros(self.num, *self.padded_hw, k2)
        for t, s, index in self._offsets():
            shifted[:, t:t + self.height, s:s + self.width, index] = grad[:, 0]
        return (self.flat.t() @ shifted.view(-1, k2)).view(1, self.channels, self.kernel_size, self.kernel_size)


class FactorizedConvLinearization:
    """Residuals r_j = sqrt(w_j) (mlu(f * z_j) - y_j), z_j = P x_j (or z_j = x_j without P), and closed-form
    Jacobian products.

    J p = sqrt(w) mlu'(s) (p_f * z + f * (p_P x)); since f * (p_P x) = (p_P^T f) * x, the projection terms are
    single-output convolutions of the raw samples with the combined kernel sum_d p_P[d, c] f[d] (and, in the
    adjoint, the filter-weight gradient on x contracted with f), which is much cheaper than going through the
    D-channel projected maps. Shapes: filter [1, D, k, k], projection [D, C, 1, 1], samples [N, C or D, H, W],
    labels [N, 1, H, W], weights [N]; residuals [N, 1, H, W].
    """

    def __init__(self, filt: torch.Tensor, samples: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor,
                 mlu_alpha: float, projection: torch.Tensor | None = None):
        k = filt.shape[-1]
        self.filter = filt
        self.projection = projection
        self.inputs = PaddedSamples(project(samples, projection) if projection is not None else samples, k)
        self.samples = PaddedSamples(samples, k) if projection is not None else None
        scores = self.inputs.correlate(filt)
        sqrt_w = weights.sqrt().view(-1, 1, 1, 1)
        self.residuals = sqrt_w * (mlu(scores, mlu_alpha) - labels)
        slope = torch.where(scores >= 0, torch.ones_like(scores), torch.exp(scores / mlu_alpha))
        self.scale = sqrt_w * slope  # d r / d scores

    def jvp(self, direction: list[torch.Tensor]) -> torch.Tensor:
        d_scores = self.inputs.correlate(direction[0])
        if self.projection is not None:
            combined = torch.einsum("dc,dts->cts", direction[1][:, :, 0, 0], self.filter[0])[None]
            d_scores = d_scores + self.samples.correlate(combined)
        return self.scale * d_scores

    def vjp(self, vector: torch.Tensor) -> list[torch.Tensor]:
        grad = self.scale * vector
        d_filter = self.inputs.filter_gradient(grad)
        if self.projection is None:
            return [d_filter]
        d_combined = self.samples.filter_gradient(grad)
        d_projection = torch.einsum("dts,cts->dc", self.filter[0], d_combined[0])[..., None, None]
        return [d_filter, d_projection]
