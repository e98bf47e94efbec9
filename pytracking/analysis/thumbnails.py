"""Thumbnail strips for the HTML report: a few evenly spaced frames of a sequence with the ground-truth box and
every tracker's predicted box drawn on them, downscaled and JPEG-encoded.

Boxes are (x, y, w, h) in the benchmark's own convention (``sequence.box_origin`` is the coordinate of the
top-left pixel, 1 for OTB-style trees); they are shifted to 0-based pixels before drawing.
"""
from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.image_io import read_image
from pytracking.utils.drawing import BOX_COLOR, draw_box

#: RGB colour of the ground-truth box (the drawing module's box green)
GROUND_TRUTH_COLOR: tuple[int, int, int] = BOX_COLOR
#: RGB colours of the trackers' boxes, in the order the trackers are given (cycled beyond ten); none is green
#: and none is a matplotlib default ("tab10") colour, so the plots' curves are never mistaken for box colours
TRACKER_COLORS: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75), (0, 130, 200), (255, 225, 25), (240, 50, 230), (70, 240, 240),
    (245, 130, 48), (145, 30, 180), (250, 190, 212), (128, 0, 0), (255, 255, 255),
)
#: thumbnails are at most this many pixels high (never upscaled)
THUMBNAIL_HEIGHT = 128
JPEG_QUALITY = 85


def tracker_color(index: int) -> tuple[int, int, int]:
    """RGB box colour of the ``index``-th tracker."""
    return TRACKER_COLORS[index % len(TRACKER_COLORS)]


def strip_frames(num_frames: int, count: int) -> list[int]:
    """``count`` evenly spaced 0-based frame indices from the first to the last frame (fewer for short sequences)."""
    if num_frames <= 0 or count <= 0:
        return []
    return sorted(set(np.linspace(0, num_frames - 1, min(count, num_frames)).round().astype(int).tolist()))


def _scaled(box: np.ndarray, origin: float, scale: float) -> np.ndarray:
    shifted = np.asarray(box, dtype=np.float64).copy()
    shifted[:2] -= origin
    return shifted * scale


def render_thumbnail(
    image: np.ndarray, boxes: list[tuple[np.ndarray, tuple[int, int, int], int]], origin: float = 0.0, height: int = THUMBNAIL_HEIGHT
) -> np.ndarray:
    """Downscale the RGB uint8 ``image`` (H, W, 3) to at most ``height`` rows and draw the (box, RGB colour,
    line thickness) triples on it in order, boxes given in the convention whose top-left pixel is ``origin``;
    NaN boxes are skipped."""
    scale = min(1.0, height / image.shape[0])
    if scale < 1.0:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    else:
        image = image.copy()
    for box, color, thickness in boxes:
        draw_box(image, _scaled(box, origin, scale), color, thickness)
    return image


def encode_jpeg(image: np.ndarray) -> bytes:
    """JPEG bytes of an RGB uint8 image (4:4:4 chroma, so thin coloured lines keep their colour)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError("cannot encode a thumbnail as JPEG")
    return encoded.tobytes()


def sequence_strip(
    sequence: Sequence, predictions: Mapping[str, np.ndarray], colors: Mapping[str, tuple[int, int, int]], count: int
) -> list[tuple[int, bytes]]:
    """(0-based frame index, JPEG bytes) for ``count`` evenly spaced frames of ``sequence``.

    Args:
        sequence: the benchmark sequence (frames and ground truth).
        predictions: tracker label -> predicted boxes float [M, 4] (x, y, w, h) in the benchmark's convention;
            frames beyond M get no box for that tracker.
        colors: tracker label -> RGB colour of its boxes.
        count: number of frames in the strip.
    """
    strip = []
    for index in strip_frames(len(sequence), count):
        # the ground truth 5 px wide underneath, the predictions 3 px wide on top (cv2 thickness 3 and 2):
        # a prediction on the ground truth shows as its colour with a green line either side
        boxes = [(sequence.ground_truth[index], GROUND_TRUTH_COLOR, 3)]
        boxes += [(pred[index], colors[label], 2) for label, pred in predictions.items() if index < len(pred)]
        thumbnail = render_thumbnail(read_image(sequence.frames[index]), boxes, sequence.box_origin)
        strip.append((index, encode_jpeg(thumbnail)))
    return strip
