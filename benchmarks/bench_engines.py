"""The tracker's backbone pass (conv1 .. layer3, layer2 + layer3 out) on each CPU engine, in one run, on real crops.

    python benchmarks/bench_engines.py [--sequence DIR] [--threads N] [--runs 30] [--json OUT]

Crops are cut from 1280x720 JPEGs (VOT-LT *skiing* of the local training data by default) around the ground truth,
as the tracker cuts them: the classifier's 288 px crop (search area 3) and the IoU-Net's 192 px window (search area 5).
Engines:

* ``eager fp32``: the network's forward (today's tracker, ``precision="fp32"``);
* ``compile fp32``: ``torch.compile`` (inductor, frozen weights);
* ``eager bf16``: bfloat16 autocast without compilation;
* ``compile bf16``: the tracker's ``precision="bf16"``;
* ``int8 (PT2E)``: the tracker's ``precision="int8"``: X86InductorQuantizer, static, the model file's calibration;
* ``onnxruntime fp32`` / ``onnxruntime int8 (QDQ)`` and ``openvino``: when the package is installed (they are not
  dependencies); ONNX Runtime's int8 is calibrated on the same training-frame crops as ours.

Per engine: the median milliseconds of one 288 px and one 192 px pass (batch 1), the cold start (building,
calibrating or compiling, and the first call of both sizes; inductor's on-disk cache makes a second process faster:
run the script twice to see it), and the error on the crops: ||engine - eager fp32|| / ||eager fp32|| of layer3.
The reference row is one full torchvision ResNet-18 forward at 288x288, as in ``bench_video.py``. Measure alone:
other CPU work changes the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torchvision

from ltr.admin.calibrate import calibration_crops
from ltr.admin.loading import load_network
from ltr.data.normalization import ImageNormalizer
from ltr.data.search_region import SearchRegion
from ltr.models.backbone.quantization import ExportableBackbone
from ltr.train_settings.datasets import real_training_videos
from ltr.utils.box_io import load_boxes
from ltr.utils.files import atomic_write_text
from ltr.utils.image_io import read_image
from trackers.atom_ebm.backbone_engine import BackboneEngine
from trackers.atom_ebm.weights import resolve_checkpoint

DEFAULT_SEQUENCE = Path("train") / "sequences" / "VOT_LT" / "skiing"
#: (search-area factor, crop side): the tracker's two backbone inputs
CROPS = {288: 3.0, 192: 5.0}
Run = Callable[[torch.Tensor], torch.Tensor]  # normalised [1, 3, S, S] -> layer3


def real_crops(sequence: Path, normalize: ImageNormalizer, count: int = 8) -> dict[int, torch.Tensor]:
    """``count`` normalised crops per side around the ground truth of evenly spaced frames."""
    frames = sorted((sequence / "img").glob("*.jpg"))
    boxes = load_boxes(sequence / "groundtruth.txt")
    picks = [i for i in np.linspace(0, len(frames) - 1, 4 * count).astype(int) if np.isfinite(boxes[i]).all()][:count]
    crops: dict[int, list[np.ndarray]] = {side: [] for side in CROPS}
    for index in picks:
        image = read_image(frames[index])
        x, y, w, h = boxes[index]
        for side, factor in CROPS.items():
            crops[side].append(SearchRegion.around((x + w / 2, y + h / 2), (w, h), factor, side).crop(image))
    return {side: normalize(np.stack(images)) for side, images in crops.items()}


def time_engine(run: Run, crops: dict[int, torch.Tensor], runs: int) -> dict[str, float]:
    """Median ms of one pass per side (after 3 warm-up passes)."""
    result = {}
    with torch.no_grad():
        for side, images in crops.items():
            image = images[:1]
            for _ in range(3):
                run(image)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                run(image)
                times.append(time.perf_counter() - start)
            result[f"ms_{side}"] = 1e3 * statistics.median(times)
    return result


def engines(net, calibration_images: list[torch.Tensor]) -> dict[str, Callable[[], Run]]:
    """Engine name -> builder of its run function (the build is the cold start)."""
    module = ExportableBackbone(net.feature_extractor).eval()

    def eager_fp32() -> Run:
        return lambda x: net.extract_backbone_features(x, ["layer3"])["layer3"]

    def compiled_fp32() -> Run:
        compiled = torch.compile(module)

        def run(x):
            with torch._inductor.config.patch(freezing=True):
                return compiled(x)[1]
        return run

    def eager_bf16() -> Run:
        def run(x):
            with torch.autocast("cpu", torch.bfloat16):
                return module(x)[1].float()
        return run

    def tracker_engine(precision: str) -> Callable[[], Run]:
        return lambda: (lambda x, engine=BackboneEngine(net, precision, torch.device("cpu")): engine(x, ["layer3"])["layer3"])

    builders = {"eager fp32": eager_fp32, "compile fp32": compiled_fp32, "eager bf16": eager_bf16,
                "compile bf16": tracker_engine("bf16"), "int8 (PT2E)": tracker_engine("int8")}
    builders.update(_onnx_engines(module, calibration_images))
    return builders


def _onnx_engines(module: torch.nn.Module, calibration_images: list[torch.Tensor]) -> dict[str, Callable[[], Run]]:
    """ONNX Runtime fp32 / int8 (QDQ, static) and OpenVINO, for the installed ones (exported per input side)."""
    folder = Path(tempfile.mkdtemp(prefix="bench_engines_"))
    threads = torch.get_num_threads()

    def export(side: int) -> Path:
        path = folder / f"backbone_{side}.onnx"
        if not path.exists():
            torch.onnx.export(module, (torch.zeros(1, 3, side, side),), path, input_names=["x"],
                              output_names=["layer2", "layer3"], dynamo=False)
        return path

    def per_side(make: Callable[[int], Callable[[np.ndarray], np.ndarray]]) -> Run:
        sessions: dict[int, Callable[[np.ndarray], np.ndarray]] = {side: make(side) for side in CROPS}
        return lambda x: torch.from_numpy(sessions[x.shape[-1]](x.numpy()))

    builders: dict[str, Callable[[], Run]] = {}
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: skipped")
    else:
        def ort_session(path: Path):
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            return lambda x: session.run(["layer3"], {"x": x})[0]

        def ort_int8(side: int):
            from onnxruntime.quantization import (
                CalibrationDataReader,
                QuantFormat,
                QuantType,
                quantize_static,
            )

            class Reader(CalibrationDataReader):
                def __init__(self):
                    self.items = iter([{"x": image[None].numpy()} for image in calibration_images
                                       if image.shape[-1] == side])

                def get_next(self):
                    return next(self.items, None)

            quantized = folder / f"backbone_{side}_int8.onnx"
            quantize_static(str(export(side)), str(quantized), Reader(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)
            return ort_session(quantized)

        builders["onnxruntime fp32"] = lambda: per_side(lambda side: ort_session(export(side)))
        builders["onnxruntime int8 (QDQ)"] = lambda: per_side(ort_int8)
    try:
        import openvino
    except ImportError:
        print("openvino not installed: skipped")
    else:
        def ov_model(side: int, hint: str):
            compiled = openvino.Core().compile_model(str(export(side)), "CPU", {
                "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": hint})
            return lambda x: compiled(x)["layer3"]

        builders["openvino fp32"] = lambda: per_side(lambda side: ov_model(side, "f32"))
        builders["openvino bf16"] = lambda: per_side(lambda side: ov_model(side, "bf16"))
    return builders


def resnet18_ms(runs: int) -> float:
    net = torchvision.models.resnet18().eval()
    return time_engine(lambda x: net(x), {288: torch.randn(1, 3, 288, 288)}, runs)["ms_288"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    local_data = os.environ.get("ATOM_EBM_LOCAL_DATA")
    parser.add_argument("--local-data-root", type=Path, default=Path(local_data) if local_data else None,
                        required=not local_data, help="local data root (default: $ATOM_EBM_LOCAL_DATA)")
    parser.add_argument("--sequence", type=Path, help="image folder with img/*.jpg and groundtruth.txt "
                                                      "(default: ROOT/train/sequences/VOT_LT/skiing)")
    parser.add_argument("--checkpoint", help="network (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    parser.add_argument("--runs", type=int, default=30, help="timed passes per engine and side")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sequence = args.sequence or args.local_data_root / DEFAULT_SEQUENCE
    try:
        net = load_network(resolve_checkpoint(args.checkpoint))
        normalize = ImageNormalizer(net.input_spec)
        crops = real_crops(sequence, normalize)
        calibration = [normalize(crop)[0] for crop in calibration_crops(real_training_videos(args.local_data_root), 16, 1)]
    except (FileNotFoundError, ValueError) as error:
        print(f"bench_engines: error: {error}", file=sys.stderr)
        return 2
    print(f"sequence={sequence} threads={torch.get_num_threads()} runs={args.runs}")
    with torch.no_grad():
        reference = {side: net.extract_backbone_features(images, ["layer3"])["layer3"] for side, images in crops.items()}
    results = {}
    for name, build in engines(net, calibration).items():
        start = time.perf_counter()
        with torch.no_grad():
            run = build()
            outputs = {side: torch.cat([run(image[None]) for image in images]) for side, images in crops.items()}
        cold = time.perf_counter() - start
        error = max(float((outputs[side].float() - reference[side]).norm() / reference[side].norm()) for side in crops)
        results[name] = {**time_engine(run, crops, args.runs), "cold_s": cold, "relative_error": error}
        print(f"{name:<24}{results[name]['ms_288']:>8.2f} ms (288){results[name]['ms_192']:>8.2f} ms (192)"
              f"{cold:>8.1f} s cold   error {error:.4f}", flush=True)
    reference_ms = resnet18_ms(args.runs)
    print(f"ResNet-18 forward (288x288, full): {reference_ms:.1f} ms")
    if args.json:
        record = {"sequence": str(sequence), "threads": torch.get_num_threads(), "torch": torch.__version__,
                  "resnet18_ms": reference_ms, "engines": results}
        atomic_write_text(args.json, json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
