"""Frame sources for the video/webcam runners (video files, image folders, cameras; all RGB uint8) and the MP4 writer.

Iterating a source yields ``(H, W, 3)`` RGB ``uint8`` frames; an image-folder frame that cannot be decoded
yields ``None`` (with a warning) so that runners can skip it and keep going.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Iterator, Protocol

import cv2
import numpy as np

from ltr.utils.image_io import read_image

logger = logging.getLogger(__name__)

#: frame rate assumed for a source that reports none (image folders, some streams) when writing video
DEFAULT_FPS = 30.0
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the sources use (lets tests inject scripted frames)."""

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def get(self, prop_id: int) -> float: ...

    def release(self) -> None: ...


def natural_sort_key(name: str) -> list:
    """Sort key that orders embedded numbers numerically ("img2" < "img10")."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def gui_available() -> bool:
    """True when OpenCV was built with a GUI backend and (on Linux) a display is set."""
    gui_lines = [line for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI:")]
    if gui_lines and gui_lines[0].split(":", 1)[1].strip().upper() == "NONE":
        return False
    if os.name == "posix" and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return False
    return True


GUI_HELP = ("the installed OpenCV has no GUI (opencv-contrib-python-headless) or no display is available; "
            "install a GUI build with `pip install opencv-contrib-python` and run with a display")


class CaptureSource:
    """Frames from an OpenCV capture (video file or camera), converted from BGR to RGB."""

    def __init__(self, capture: Capture, name: str):
        self.capture = capture
        self.name = name
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps < 1000.0 else None

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            ok, frame = self.capture.read()
            if not ok or frame is None:
                return
            if frame.ndim == 2:
                yield cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
            else:
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the capture."""
        self.capture.release()


class ImageFolderSource:
    """Frames from the images of a folder, in natural name order."""

    def __init__(self, folder: str | os.PathLike, fps: float | None = None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"image folder not found: {self.folder}")
        self.paths = sorted((p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS),
                            key=lambda p: natural_sort_key(p.name))
        if not self.paths:
            raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in folder {self.folder}")
        self.name = self.folder.name
        self.fps = fps

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[np.ndarray | None]:
        for path in self.paths:
            try:
                yield read_image(path)
            except (ValueError, OSError) as error:
                logger.warning("skipping unreadable frame %s: %s", path, error)
                yield None

    def close(self) -> None:
        """Nothing to release."""


def open_video(path: str | os.PathLike) -> CaptureSource:
    """A video file as a frame source; ``ValueError`` naming the file if OpenCV cannot decode it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video not found: {path}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video (unsupported or corrupt): {path}")
    return CaptureSource(capture, path.stem)


def open_camera(index: int) -> CaptureSource:
    """Camera ``index`` as a frame source; ``ValueError`` if it cannot be opened."""
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise ValueError(f"cannot open camera {index}")
    return CaptureSource(capture, f"camera{index}")


def open_source(path: str | os.PathLike) -> CaptureSource | ImageFolderSource:
    """A video file or an image folder as a frame source."""
    path = Path(path)
    if path.is_dir():
        return ImageFolderSource(path)
    return open_video(path)


class VideoWriter:
    """Annotated MP4 (mp4v) written to a hidden temporary file and renamed into place on ``close``."""

    def __init__(self, path: Path, fps: float, frame_size: tuple[int, int]):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = path.with_name(f".{path.stem}.partial{path.suffix or '.mp4'}")
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, frame_size)
        if not self.writer.isOpened():
            raise ValueError(f"cannot write video {path} (OpenCV has no mp4v encoder for it)")

    def write(self, image_rgb: np.ndarray) -> None:
        """Append one RGB frame."""
        self.writer.write(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))

    def close(self, keep: bool = True) -> None:
        """Finish the file; move it into place when ``keep``, else delete it."""
        self.writer.release()
        if keep:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
