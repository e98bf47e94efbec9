"""Write the documentation's measured tables from the result files in ``benchmarks/results/``, or check them.

    python benchmarks/readme_tables.py          # rewrite the generated blocks of README.md and docs/speed.md
    python benchmarks/readme_tables.py --check  # exit 1, naming the stale blocks, if a file differs

A generated block sits between ``<!-- generated: NAME (benchmarks/readme_tables.py) -->`` and
``<!-- end generated: NAME -->``. Every number in it comes from a committed result file, written by the benchmark
that measured it (``study_refinement.py``, ``bench_video.py``, ``pytracking.demo``), so a new measurement reaches
the README by re-running this script and a README that disagrees with the results fails the test suite.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable

from ltr.utils.files import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
README = REPO / "README.md"
SPEED_DOC = REPO / "docs" / "speed.md"

#: the study behind the accuracy table (``experiments/study_refinement.py``: held-out sequences and the selection set)
ACCURACY_STUDY = "study_selection.json"
#: README row label -> variant label in the study
ACCURACY_ROWS = (
    ("`default`: bundled EBM IoU-Net, S1 after the first-frame self-check", "default model"),
    ("retrained EBM IoU-Net + S1 on every frame (`always_refine`)", "EBM + S1"),
    ("retrained IoU-MSE IoU-Net + fixed-step ascent (ATOM*, same data and budget)", "IoU-MSE + fixed"),
    ("retrained IoU-MSE IoU-Net + S1 on every frame", "IoU-MSE + S1"),
    ("classifier box without refinement (`no_refine`)", "no refinement"),
    ("OpenCV CSRT", "OpenCV CSRT"),
    ("NanoTrack v2 (`opencv nanotrack`)", "NanoTrack v2"),
    ("VitTrack (`opencv vittrack`)", "VitTrack"),
)
#: (set, metric key, column title)
ACCURACY_COLUMNS = (("held_out", "auc", "AUC"), ("held_out", "op50", "OP50"), ("held_out", "op75", "OP75"),
                    ("held_out", "precision", "Precision"), ("selection", "domain_mean_auc", "selection AUC"))

#: speed-table rows: (parameter set, target of its ratio to a ResNet-18 forward); each row is measured per precision
SPEED_ROWS = (("default", "≤ 1.0"), ("always_refine", "≤ 1.4"), ("fast", "≤ 1.0"), ("no_refine", ""))
SPEED_PRECISIONS = ("fp32", "bf16", "int8")
SPEED_FILES = {"2 threads": "bench_video_cpu_2threads.json", "1 thread": "bench_video_cpu_1thread.json"}
#: ``benchmarks/bench_engines.py``'s record
ENGINES_FILE = "bench_engines_cpu.json"
DEMO_FILE = "demo_cpu.json"


def _load(name: str) -> dict:
    path = RESULTS / name
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"readme_tables: cannot read {path}: {error}") from None


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(columns: int) -> str:
    return "|" + "---|" * columns


def accuracy_table() -> str:
    """Mean AUC / OP50 / OP75 / precision over the held-out sequences and seeds, and the selection set's mean of its
    domains' AUCs; best of each column in bold."""
    study = _load(ACCURACY_STUDY)["variants"]
    rows = [(label, [study[set_name][variant][key] for set_name, key, _ in ACCURACY_COLUMNS])
            for label, variant in ACCURACY_ROWS]
    best = [max(values[i] for _, values in rows) for i in range(len(ACCURACY_COLUMNS))]
    lines = [_row(["tracker", *(title for _, _, title in ACCURACY_COLUMNS)]), _rule(len(ACCURACY_COLUMNS) + 1)]
    for label, values in rows:
        cells = [f"**{v:.1f}**" if f"{v:.1f}" == f"{b:.1f}" else f"{v:.1f}" for v, b in zip(values, best)]
        lines.append(_row([label, *cells]))
    return "\n".join(lines)


def speed_table() -> str:
    """Frame time and ratio to a ResNet-18 forward per parameter set and backbone precision."""
    runs = {threads: _load(name)["variants"] for threads, name in SPEED_FILES.items()}
    lines = [_row(["parameter set", "precision", "frame", *(f"÷ ResNet-18, {threads}" for threads in runs), "target"]),
             _rule(4 + len(runs))]
    for param, target in SPEED_ROWS:
        for precision in SPEED_PRECISIONS:
            variant = f"{param}:precision={precision}"
            if variant not in runs["2 threads"]:
                continue
            frame_ms = runs["2 threads"][variant]["frame_ms"]
            ratios = [f"{variants[variant]['ratio']:.2f}" if variant in variants else "" for variants in runs.values()]
            lines.append(_row([f"`{param}`", precision, f"{frame_ms:.1f} ms ({1000 / frame_ms:.1f} fps)", *ratios,
                               target]))
    return "\n".join(lines)


def engines_table() -> str:
    """The backbone pass per engine: time per crop side, cold start, error against eager fp32."""
    record = _load(ENGINES_FILE)
    lines = [_row(["engine", "288 px crop", "192 px crop", "cold start", "error vs fp32"]), _rule(5)]
    for name, result in record["engines"].items():
        lines.append(_row([name, f"{result['ms_288']:.1f} ms", f"{result['ms_192']:.1f} ms", f"{result['cold_s']:.1f} s",
                           f"{100 * result['relative_error']:.1f} %"]))
    lines.append(_row(["ResNet-18 forward, 288 px (reference)", f"{record['resnet18_ms']:.1f} ms", "", "", ""]))
    return "\n".join(lines)


def demo_line() -> str:
    """The demo's score and time."""
    demo = _load(DEMO_FILE)
    precision = f", {demo['numeric_precision']}" if demo.get("numeric_precision") else ""
    return (f"The demo (`atom-ebm demo`, {demo['sequence']}, {demo['frames']} frames, seed {demo['seed']}{precision}) "
            f"scores AUC {demo['auc']:.1f} (OP75 {demo['op75']:.1f}) in {demo['wall_seconds']:.0f} s in all, tracking "
            f"at {demo['fps']:.1f} FPS.")


#: block name -> (the file holding it, its generator)
BLOCKS: dict[str, tuple[Path, Callable[[], str]]] = {
    "accuracy": (README, accuracy_table), "demo": (README, demo_line), "speed": (SPEED_DOC, speed_table),
    "engines": (SPEED_DOC, engines_table)}


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {name} \(benchmarks/readme_tables.py\) -->\n)(.*?)(\n<!-- end generated: {name} -->)",
                      re.DOTALL)


def render(text: str, path: Path) -> tuple[str, list[str]]:
    """``text`` (the contents of ``path``) with its generated blocks rewritten, and the names of those that changed."""
    changed = []
    for name, (file, generate) in BLOCKS.items():
        if file != path:
            continue
        pattern = _block_pattern(name)
        match = pattern.search(text)
        if match is None:
            raise SystemExit(f"readme_tables: {path} has no generated block '{name}'")
        content = generate()
        if match.group(2) != content:
            changed.append(name)
            text = text[:match.start(2)] + content + text[match.end(2):]
    return text, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path in dict.fromkeys(file for file, _ in BLOCKS.values()):
        updated, changed = render(path.read_text(), path)
        stale += [f"{path.name}:{name}" for name in changed]
        if changed and not args.check:
            atomic_write_text(path, updated)
    if args.check and stale:
        print(f"readme_tables: stale blocks: {', '.join(stale)} (run python benchmarks/readme_tables.py)", file=sys.stderr)
        return 1
    print(f"readme_tables: {'updated ' + ', '.join(stale) if stale else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
