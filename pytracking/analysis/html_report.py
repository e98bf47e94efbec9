"""The report as one self-contained static page: ``DIR/index.html``, opened from disk with no network.

Everything is inside the one file: inline CSS, a small inline script that sorts the tables (click a header;
numbers sort numerically, missing values last; ``index.html?sort=KEY`` or ``?sort=-KEY`` sorts on load, KEY
being a column's ``data-key``, e.g. ``auc``), the success / precision plots as base64 PNG and, per sequence,
a strip of JPEG thumbnails with the ground truth and every tracker's box. Below: the report command and,
per tracker, the provenance in ``RESULTS/TRACKER/PARAM/run_info.json`` (written by ``pytracking.run_tracker``).
All text from files or the command line is HTML-escaped.
"""
from __future__ import annotations

import base64
import datetime
import json
import os
import tempfile
from collections.abc import Sequence as SequenceType
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.box_io import load_boxes
from ltr.utils.files import atomic_write_text
from pytracking.analysis.plots import plot_curves
from pytracking.analysis.thumbnails import (
    GROUND_TRUTH_COLOR,
    sequence_strip,
    tracker_color,
)
from pytracking.evaluation.run_info import read_run_info
from pytracking.evaluation.runner import result_file

PAGE_NAME = "index.html"
#: run_info.json keys shown first, in this order; any other keys follow
RUN_INFO_KEYS = ("command", "checkpoint", "checkpoint_sha256", "seed", "device", "git_commit", "started")
PLOT_KINDS = (("success", "Success plot"), ("precision", "Precision plot"), ("norm_precision", "Normalised precision plot"))

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:middle}
th{background:#eee;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.name,th.name{text-align:left}td.strip{text-align:left;min-width:40em}
figure{display:inline-block;margin:0 2px;text-align:center}figcaption{font-size:.75em;color:#555}
td.strip img{transition:transform .15s}td.strip img:hover{transform:scale(2.5);position:relative;z-index:1;box-shadow:0 0 8px #000}
.plots img{width:32%;min-width:360px;max-width:600px}
.swatch{display:inline-block;width:1em;height:1em;border:1px solid #444;vertical-align:middle;margin:0 .3em 0 1em}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;word-break:break-all}
.note{color:#a00}
"""

_SCRIPT = """
function cellValue(row, col) {
  const cell = row.cells[col];
  if (cell.dataset.value === undefined) return cell.textContent.trim();
  return cell.dataset.value === "" ? null : Number(cell.dataset.value);
}
function sortTable(table, key, descending) {
  const headers = Array.from(table.tHead.rows[0].cells);
  const col = headers.findIndex(th => th.dataset.key === key);
  if (col < 0) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, col), y = cellValue(b, col);
    if (x === null || y === null) return (x === null) - (y === null);
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
  rows.forEach(row => body.appendChild(row));
  headers.forEach(th => th.removeAttribute("aria-sort"));
  headers[col].setAttribute("aria-sort", descending ? "descending" : "ascending");
}
document.addEventListener("DOMContentLoaded", () => {
  const tables = Array.from(document.querySelectorAll("table.sortable"));
  tables.forEach(table => Array.from(table.tHead.rows[0].cells).forEach(th => th.addEventListener("click", () => {
    const numeric = th.dataset.numeric === "1";
    const current = th.getAttribute("aria-sort");
    const descending = current ? current === "ascending" : numeric;
    sortTable(table, th.dataset.key, descending);
  })));
  const wanted = new URLSearchParams(window.location.search).get("sort");
  if (wanted) tables.forEach(table => sortTable(table, wanted.replace(/^-/, ""), wanted.startsWith("-")));
});
"""


@dataclass
class TrackerResults:
    """One tracker's scores as computed by ``pytracking.analysis.report.evaluate_tracker``.

    ``overall`` is the data-set metrics dict (None when no result file exists), ``per_sequence`` maps sequence
    names to their metrics dicts, ``result_dir`` holds the result files and ``run_info.json``.
    """

    label: str
    overall: dict | None
    per_sequence: dict[str, dict]
    missing: list[str]
    result_dir: Path


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _number_cell(value: float | None, css: str = "") -> str:
    if value is None or not np.isfinite(value):
        return f'<td{css} data-value="">-</td>'
    return f'<td{css} data-value="{float(value)!r}">{value:.2f}</td>'


def _header(key: str, title: str, numeric: bool, css: str = "") -> str:
    return f'<th{css} data-key="{escape(key)}" data-numeric="{int(numeric)}">{escape(title)}</th>'


def _metrics_table(trackers: SequenceType[TrackerResults], columns: SequenceType[tuple[str, str]], num_sequences: int) -> str:
    head = _header("tracker", "Tracker", False, ' class="name"')
    head += "".join(_header(key, title, True) for key, title in columns) + _header("seqs", "Seqs", True)
    rows = []
    for tracker in trackers:
        cells = f'<td class="name">{escape(tracker.label)}</td>'
        cells += "".join(_number_cell(None if tracker.overall is None else tracker.overall[key]) for key, _ in columns)
        present = len(tracker.per_sequence)
        cells += f'<td data-value="{present}">{present}/{num_sequences}</td>'
        rows.append(f'<tr data-tracker="{escape(tracker.label)}">{cells}</tr>')
    return f'<table id="metrics" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _plots(trackers: SequenceType[TrackerResults], dataset: str) -> str:
    """The success / precision plots of ``plots.plot_curves``, rendered to a temporary folder and inlined."""
    scored = {t.label: t.overall for t in trackers if t.overall is not None}
    images = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, title in PLOT_KINDS:
            path = Path(tmp) / f"{kind}.png"
            plot_curves(scored, kind, path, title=dataset)
            images.append(f'<img id="plot-{kind}" alt="{escape(title)}" src="{_data_uri("image/png", path.read_bytes())}">')
    return f'<div class="plots">{"".join(images)}</div>'


def _legend(trackers: SequenceType[TrackerResults], colors: dict[str, tuple[int, int, int]]) -> str:
    entries = [("ground truth", GROUND_TRUTH_COLOR)] + [(t.label, colors[t.label]) for t in trackers]
    swatches = "".join(
        f'<span class="swatch" data-label="{escape(label)}" data-color="{_hex(c)}" style="background:{_hex(c)}"></span>{escape(label)}'
        for label, c in entries
    )
    return f'<p id="legend">Boxes:{swatches}</p>'


def _sequence_table(
    trackers: SequenceType[TrackerResults], sequences: SequenceType[Sequence], colors: dict[str, tuple[int, int, int]], frames: int
) -> str:
    head = _header("sequence", "Sequence", False, ' class="name"') + _header("frames", "Frames", True)
    head += "".join(_header(f"auc:{t.label}", f"AUC {t.label}", True) for t in trackers)
    head += '<th class="name" data-key="strip" data-numeric="0">Frames (ground truth and predictions)</th>' if frames else ""
    rows = []
    for sequence in tqdm(sequences, desc="html thumbnails", unit="seq", disable=not frames):
        cells = f'<td class="name">{escape(sequence.name)}</td><td data-value="{len(sequence)}">{len(sequence)}</td>'
        cells += "".join(_number_cell(t.per_sequence[sequence.name]["auc"] if sequence.name in t.per_sequence else None) for t in trackers)
        if frames:
            predictions = {t.label: load_boxes(result_file(t.result_dir, sequence.name)) for t in trackers if sequence.name in t.per_sequence}
            figures = "".join(
                f'<figure data-frame="{index}"><img alt="frame {index + 1}" src="{_data_uri("image/jpeg", jpeg)}">'
                f"<figcaption>{index + 1}</figcaption></figure>"
                for index, jpeg in sequence_strip(sequence, predictions, colors, frames)
            )
            cells += f'<td class="strip">{figures}</td>'
        rows.append(f'<tr data-sequence="{escape(sequence.name)}">{cells}</tr>')
    return f'<table id="sequences" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _run_info_block(tracker: TrackerResults) -> str:
    info, note = read_run_info(tracker.result_dir)
    title = f'<h3>{escape(tracker.label)} <small>({escape(str(tracker.result_dir))})</small></h3>'
    if info is None:
        return f'<div class="run-info" data-tracker="{escape(tracker.label)}">{title}<p class="note">{escape(note or "")}</p></div>'
    keys = [k for k in RUN_INFO_KEYS if k in info] + [k for k in info if k not in RUN_INFO_KEYS]
    rows = "".join(
        f'<tr><th class="name">{escape(str(k))}</th><td class="name" data-key="{escape(str(k))}">'
        f'{escape(info[k] if isinstance(info[k], str) else json.dumps(info[k]))}</td></tr>'
        for k in keys
    )
    return f'<div class="run-info" data-tracker="{escape(tracker.label)}">{title}<table>{rows}</table></div>'


def write_html_report(
    folder: str | os.PathLike,
    *,
    trackers: SequenceType[TrackerResults],
    sequences: SequenceType[Sequence],
    columns: SequenceType[tuple[str, str]],
    dataset: str,
    split: str | None,
    protocol: str,
    command: str,
    frames_per_sequence: int = 6,
) -> Path:
    """Write ``folder/index.html`` (atomically; the folder is created) and return its path.

    Args:
        trackers: the trackers' results, in table order; box colours follow this order (``thumbnails.tracker_color``).
        sequences: the scored sequences, one row each; their frames are read for the thumbnails.
        columns: (metrics key, column title) pairs of the metrics table, e.g. ``report.SCORE_COLUMNS``.
        dataset, split, protocol: shown in the title.
        command: the shell command that made the report, shown verbatim.
        frames_per_sequence: thumbnails per sequence (0: no thumbnails, no frames read).
    """
    colors = {t.label: tracker_color(i) for i, t in enumerate(trackers)}
    heading = f"{dataset}{f' ({split})' if split else ''}, protocol {protocol}"
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    body = [
        f"<h1>Tracking results: {escape(heading)}</h1>",
        f"<p>{len(sequences)} sequences; scores in percent; generated {created}. Click a column header to sort.</p>",
        "<h2>Metrics</h2>", _metrics_table(trackers, columns, len(sequences)),
        "<h2>Plots</h2>", _plots(trackers, dataset),
        "<h2>Per sequence</h2>", _legend(trackers, colors) if frames_per_sequence else "",
        _sequence_table(trackers, sequences, colors, frames_per_sequence),
        "<h2>How these results were made</h2>",
        f'<p>Report command (in {escape(os.getcwd())}):</p><pre id="report-command">{escape(command)}</pre>',
        *(_run_info_block(t) for t in trackers),
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(heading)}</title><style>{_CSS}</style><script>{_SCRIPT}</script></head>"
        f'<body>{"".join(body)}</body></html>\n'
    )
    path = Path(folder) / PAGE_NAME
    atomic_write_text(path, page)
    return path
