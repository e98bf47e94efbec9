"""Box conversions and IoU on tensors. Boxes are float ``(x, y, w, h)`` (top-left corner + size) unless named xyxy."""
from __future__ import annotations

import torch

__all__ = ["xywh_to_xyxy", "xyxy_to_xywh", "box_iou_xywh", "xywh_to_rel", "rel_to_xywh"]


def _check_last_dim(name: str, tensor: torch.Tensor, size: int) -> None:
    if not isinstance(tensor, torch.Tensor) or tensor.dim() == 0 or tensor.shape[-1] != size:
        raise ValueError(f"{name} must be a tensor of shape [..., {size}], got {tuple(getattr(tensor, 'shape', ()))}")


def xywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """[..., 4] (x, y, w, h) -> [..., 4] (x1, y1, x2, y2) with x2 = x + w (no -1)."""
    _check_last_dim("boxes", boxes, 4)
    return torch.cat((boxes[..., :2], boxes[..., :2] + boxes[..., 2:]), dim=-1)


def xyxy_to_xywh(boxes: torch.Tensor) -> torch.Tensor:
    """[..., 4] (x1, y1, x2, y2) -> [..., 4] (x, y, w, h)."""
    _check_last_dim("boxes", boxes, 4)
    return torch.cat((boxes[..., :2], boxes[..., 2:] - boxes[..., :2]), dim=-1)


def box_iou_xywh(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Continuous IoU of broadcastable [..., 4] xywh boxes -> [...]; 0 when the union is empty."""
    _check_last_dim("a", a, 4)
    _check_last_dim("b", b, 4)
    tl = torch.maximum(a[..., :2], b[..., :2])
    br = torch.minimum(a[..., :2] + a[..., 2:], b[..., :2] + b[..., 2:])
    inter = (br - tl).clamp(min=0).prod(dim=-1)
    union = a[..., 2:].clamp(min=0).prod(dim=-1) + b[..., 2:].clamp(min=0).prod(dim=-1) - inter
    return torch.where(union > 0, inter / torch.where(union > 0, union, torch.ones_like(union)), torch.zeros_like(union))


def xywh_to_rel(boxes: torch.Tensor, size_norm: torch.Tensor) -> torch.Tensor:
    """[..., 4] xywh -> [..., 4] relative ``(cx / w0, cy / h0, log w, log h)`` with (w0, h0) = ``size_norm`` [..., 2].

    Raises:
        ValueError: if any width/height is not positive (the log would be -inf/NaN).
    """
    _check_last_dim("boxes", boxes, 4)
    _check_last_dim("size_norm", size_norm, 2)
    if not bool((boxes[..., 2:] > 0).all()) or not bool((size_norm > 0).all()):
        raise ValueError("xywh_to_rel needs positive box sizes and positive size_norm")
    center = boxes[..., :2] + 0.5 * boxes[..., 2:]
    return torch.cat((center / size_norm, boxes[..., 2:].log()), dim=-1)


def rel_to_xywh(rel: torch.Tensor, size_norm: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`xywh_to_rel`: [..., 4] relative -> [..., 4] xywh."""
    _check_last_dim("rel", rel, 4)
    _check_last_dim("size_norm", size_norm, 2)
    size = rel[..., 2:].exp()
    center = rel[..., :2] * size_norm
    return torch.cat((center - 0.5 * size, size), dim=-1)
