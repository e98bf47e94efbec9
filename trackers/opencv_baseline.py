"""OpenCV trackers behind the ``trackers.base.Tracker`` contract: CSRT / KCF (no model) and NanoTrack v2 (ONNX).

Kinds (the ``param`` of ``python -m pytracking.run_tracker opencv PARAM``):

* ``csrt`` (also ``default``), ``kcf``: correlation-filter baselines that need no model files.
* ``nanotrack``: NanoTrack v2, a small Siamese network run by ``cv2.TrackerNano`` (opencv-contrib). It needs a
  model folder holding ``nanotrack_backbone_sim.onnx`` and ``nanotrack_head_sim.onnx``, given as ``model_dir``
  (``--model-dir DIR`` on the command line) or else by the ``NANOTRACK_MODEL_DIR`` environment variable.
* ``vittrack``: VitTrack, a small one-stream transformer tracker run by ``cv2.TrackerVit`` (OpenCV >= 4.9). Its model
  folder holds ``vitTracker.onnx``, from ``model_dir`` or else ``VITTRACK_MODEL_DIR``.

The boxes of the model-based kinds depend on the OpenCV version (its DNN module and the trackers' pre- and
post-processing change between releases): record ``cv2.__version__`` with every number.

Box formats: this module takes and returns float (x, y, w, h) boxes in 0-based pixels of an RGB image (the
``Tracker`` contract). OpenCV wants BGR images and integer ``(x, y, w, h)`` rects, so images are converted and
the initial box is rounded to whole pixels; OpenCV's integer output rects are returned as floats.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from trackers.base import Tracker, TrackerOutput, validate_image, validate_init_box

#: Kinds that need no model, with the name of their OpenCV factory (in ``cv2`` or ``cv2.legacy``).
_FACTORIES = {"csrt": "TrackerCSRT_create", "kcf": "TrackerKCF_create"}

NANOTRACK = "nanotrack"
VITTRACK = "vittrack"


@dataclass(frozen=True)
class ModelKind:
    """A model-based OpenCV tracker: its ONNX files (inside one folder), the folder's environment variable and the
    OpenCV factory that builds it from the file paths."""

    title: str
    files: tuple[str, ...]
    env_var: str
    factory: str
    create: Callable[[tuple[Path, ...]], object]


def _create_nano(paths: tuple[Path, ...]) -> object:
    params = cv2.TrackerNano_Params()
    params.backbone, params.neckhead = (str(path) for path in paths)
    return cv2.TrackerNano_create(params)


def _create_vit(paths: tuple[Path, ...]) -> object:
    params = cv2.TrackerVit_Params()
    params.net = str(paths[0])
    return cv2.TrackerVit_create(params)


MODEL_KINDS = {
    NANOTRACK: ModelKind("NanoTrack", ("nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx"),
                         "NANOTRACK_MODEL_DIR", "TrackerNano_create", _create_nano),
    VITTRACK: ModelKind("VitTrack", ("vitTracker.onnx",), "VITTRACK_MODEL_DIR", "TrackerVit_create", _create_vit),
}

#: All kinds accepted by ``build_tracker`` (``default`` is an alias of ``csrt``).
KINDS = (*_FACTORIES, *MODEL_KINDS)


def _model_dir_error(kind: ModelKind, problem: str) -> str:
    """One-line message: what is wrong, which files are expected, and how to give the folder."""
    return (f"{kind.title} needs a model folder holding {' and '.join(kind.files)}: {problem}; "
            f"pass --model-dir DIR (model_dir=DIR) or set {kind.env_var}=DIR")


def model_files(kind: str, model_dir: str | os.PathLike | None = None) -> tuple[Path, ...]:
    """Paths of the model files of ``kind`` (``MODEL_KINDS``) in ``model_dir``, else in its environment variable's
    folder.

    Raises:
        ValueError: no folder given, or the path is not a folder.
        FileNotFoundError: the folder or one of its files does not exist.
    """
    spec = MODEL_KINDS[kind]
    source = "--model-dir"
    if model_dir is None or str(model_dir) == "":
        model_dir = os.environ.get(spec.env_var) or None
        source = spec.env_var
    if model_dir is None:
        raise ValueError(_model_dir_error(spec, f"no folder given (neither model_dir nor {spec.env_var} is set)"))
    folder = Path(model_dir).expanduser()
    if not folder.exists():
        raise FileNotFoundError(_model_dir_error(spec, f"folder {folder} (from {source}) does not exist"))
    if not folder.is_dir():
        raise ValueError(_model_dir_error(spec, f"{folder} (from {source}) is not a folder"))
    paths = tuple(folder / name for name in spec.files)
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(_model_dir_error(spec, f"{' and '.join(missing)} missing in folder {folder} "
                                                       f"(from {source})"))
    return paths


def _model_factory(kind: str, model_dir: str | os.PathLike | None) -> Callable[[], object]:
    """A zero-argument factory of the model-based tracker ``kind``; loads the networks once to fail early on bad
    files."""
    spec = MODEL_KINDS[kind]
    if not hasattr(cv2, spec.factory):
        raise RuntimeError(f"OpenCV {cv2.__version__} has no {spec.factory} "
                           "(install opencv-contrib-python-headless >= 4.9)")
    paths = model_files(kind, model_dir)

    def create() -> object:
        # OpenCV 5's DNN engine warns on stderr that it ignores the preferred target it sets itself: not ours to see
        logging = getattr(getattr(cv2, "utils", None), "logging", None)
        level = logging.getLogLevel() if logging else None
        if logging:
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)
        try:
            return spec.create(paths)
        finally:
            if logging:
                logging.setLogLevel(level)

    try:
        create()
    except cv2.error as error:  # e.g. a truncated or non-ONNX file: a user error, reported on one line
        detail = " ".join(str(error).split())
        raise ValueError(f"cannot load the {spec.title} model from {paths[0].parent}: {detail}") from None
    return create


def _model_free_factory(kind: str) -> Callable[[], object]:
    name = _FACTORIES[kind]
    factory = getattr(cv2, name, None) or getattr(getattr(cv2, "legacy", None), name, None)
    if factory is None:
        raise RuntimeError(f"this OpenCV build has no {name} (install opencv-contrib-python-headless)")
    return factory


class OpenCVTracker(Tracker):
    """Wraps ``cv2.TrackerCSRT``, ``cv2.TrackerKCF``, ``cv2.TrackerNano`` (kind ``nanotrack``) or ``cv2.TrackerVit``
    (kind ``vittrack``).

    Takes RGB images and float 0-based (x, y, w, h) boxes; OpenCV gets BGR images and integer rects.
    ``score``: for ``nanotrack`` and ``vittrack``, ``getTrackingScore()`` (the network's confidence in [0, 1]);
    for CSRT / KCF, 1.0 when OpenCV reports success. When OpenCV reports failure (or an unusable box) the last
    box is kept and the score is 0.0.

    Args:
        kind: ``csrt``, ``kcf``, ``nanotrack`` or ``vittrack``.
        model_dir: model folder of ``nanotrack`` / ``vittrack`` (default: its environment variable); must be None for
            CSRT / KCF.
    """

    def __init__(self, kind: str = "csrt", model_dir: str | os.PathLike | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown OpenCV tracker '{kind}'; valid: {', '.join(KINDS)}")
        if kind in MODEL_KINDS:
            self._factory = _model_factory(kind, model_dir)
        else:
            if model_dir is not None:
                raise ValueError(f"the opencv {kind} tracker takes no model folder (--model-dir is for "
                                 f"{' and '.join(MODEL_KINDS)})")
            self._factory = _model_free_factory(kind)
        self.kind = kind
        self._tracker = None
        self._box: tuple[float, float, float, float] | None = None

    def initialize(self, image: np.ndarray, box: Sequence[float]) -> None:
        """Start on the RGB ``image`` with the (x, y, w, h) float ``box`` (rounded to whole pixels for OpenCV)."""
        validate_image(image)
        box = validate_init_box(box, image.shape)
        x, y, w, h = box
        rect = (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h))))
        self._tracker = self._factory()
        self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), rect)
        self._box = box

    def track(self, image: np.ndarray) -> TrackerOutput:
        """Track in the next RGB ``image``; returns the float box and its score (see the class docstring)."""
        if self._tracker is None:
            raise RuntimeError("track() called before initialize()")
        validate_image(image)
        start = time.perf_counter()
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        elapsed = time.perf_counter() - start
        box = tuple(float(v) for v in rect)
        if ok and len(box) == 4 and all(math.isfinite(v) for v in box) and box[2] > 0 and box[3] > 0:
            self._box = box  # type: ignore[assignment]
            # CSRT / KCF have getTrackingScore too since OpenCV 5, but it returns -1 there (no confidence)
            score = float(self._tracker.getTrackingScore()) if self.kind in MODEL_KINDS else 1.0
        else:
            score = 0.0
        return TrackerOutput(box=self._box, score=score, timings={"opencv": elapsed})


def check_arguments(*, param: str = "csrt", checkpoint: str | None = None,
                    model_dir: str | os.PathLike | None = None) -> None:
    """Cheap up-front check of ``build_tracker``'s arguments, so that a command fails before it writes anything.

    For ``nanotrack`` and ``vittrack`` this resolves the model folder and loads the networks once (milliseconds).
    Raises ``ValueError`` / ``FileNotFoundError`` with a one-line message, like ``build_tracker``.
    """
    build_tracker(param=param, checkpoint=checkpoint, model_dir=model_dir)


def build_tracker(*, param: str = "csrt", checkpoint: str | None = None, device: str | None = None,
                  model_dir: str | os.PathLike | None = None) -> OpenCVTracker:
    """Registry builder: ``param`` is ``csrt`` (also ``default``), ``kcf``, ``nanotrack`` or ``vittrack``.

    ``model_dir`` is the model folder of ``nanotrack`` / ``vittrack`` (default: its environment variable) and an error
    for the other kinds; ``checkpoint`` must be None; ``device`` is not used (OpenCV runs on the CPU).
    """
    if checkpoint is not None:
        hint = " (it loads its model folder: use --model-dir DIR)" if param in MODEL_KINDS else ""
        raise ValueError(f"the opencv tracker takes no checkpoint{hint}")
    return OpenCVTracker("csrt" if param == "default" else param, model_dir=model_dir)
