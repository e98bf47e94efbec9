"""Image decoding: jpeg4py (libjpeg-turbo) for JPEGs when libturbojpeg is installed, OpenCV otherwise.

All readers return RGB ``uint8`` arrays of shape (H, W, 3).
"""
from __future__ import annotations

import ctypes.util
import functools
import os
from pathlib import Path

import cv2
import numpy as np


@functools.lru_cache(maxsize=1)
def jpeg4py_available() -> bool:
    """True when jpeg4py can decode (it needs the system library libturbojpeg)."""
    if ctypes.util.find_library("turbojpeg") is None:
        return False
    try:
        return _probe_jpeg4py()
    except Exception:  # a broken libturbojpeg install: use OpenCV
        return False


def _probe_jpeg4py() -> bool:
    import jpeg4py

    ok, encoded = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    jpeg4py.JPEG(np.frombuffer(encoded.tobytes(), np.uint8)).decode()
    return bool(ok)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file exists but cannot be decoded (message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    if path.suffix.lower() in (".jpg", ".jpeg") and jpeg4py_available():
        import jpeg4py

        try:
            image = jpeg4py.JPEG(str(path)).decode()
            if image.ndim == 3 and image.shape[2] == 3:
                return image
        except Exception:
            pass  # fall through to OpenCV, which also handles CMYK / grey / odd JPEGs
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"cannot decode image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
