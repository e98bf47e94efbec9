"""Fourier (trigonometric) interpolation of periodic 2-D maps with ``torch.fft``."""
from __future__ import annotations

import torch


def fourier_upsample(maps: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """Band-limited (trigonometric) interpolation of periodic maps onto a finer grid.

    Sample ``j`` of an input axis of length ``n`` lands on output index ``j * output / n`` exactly; the
    interpolant is the unique trigonometric polynomial through the samples, with the Nyquist term of an even
    length split evenly between +n/2 and -n/2 (so the result is real and passes through every sample).

    Args:
        maps: [..., n_h, n_w] real tensor.
        output_size: output side or (out_h, out_w); each must be >= the input side.

    Returns:
        [..., out_h, out_w] real tensor on the same device and dtype.
    """
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    n_h, n_w = maps.shape[-2:]
    if out_h < n_h or out_w < n_w:
        raise ValueError(f"output size {(out_h, out_w)} smaller than the input map {(n_h, n_w)}")
    spectrum = torch.fft.rfft2(maps)  # [..., n_h, n_w // 2 + 1]
    padded = spectrum.new_zeros(*maps.shape[:-2], out_h, out_w // 2 + 1)
    half_h = n_h // 2  # number of positive row frequencies (excluding 0), Nyquist included when even
    cols = n_w // 2 + 1
    col_spec = spectrum.clone()
    if n_w % 2 == 0 and out_w > n_w:
        col_spec[..., n_w // 2] = col_spec[..., n_w // 2] * 0.5  # split the column Nyquist term over +-n_w/2
    # rows: frequencies 0..ceil(n_h/2)-1 at the start, negative ones at the end
    pos_rows = (n_h + 1) // 2
    padded[..., :pos_rows, :cols] = col_spec[..., :pos_rows, :]
    neg_rows = n_h - pos_rows
    if neg_rows:
        padded[..., out_h - neg_rows:, :cols] = col_spec[..., pos_rows:, :]
    if n_h % 2 == 0 and out_h > n_h:
        nyquist = col_spec[..., half_h, :] * 0.5  # split the row Nyquist term over +-n_h/2
        padded[..., half_h, :cols] = nyquist
        padded[..., out_h - half_h, :cols] = nyquist
    scale = (out_h * out_w) / (n_h * n_w)
    return torch.fft.irfft2(padded, s=(out_h, out_w)) * scale
