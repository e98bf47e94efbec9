"""``report --html``: the page's DOM (tables, plots, thumbnails, provenance) checked against scores computed here
in closed form, then the page opened in headless Chromium (sorting by its script, and a screenshot of it)."""
from __future__ import annotations

import base64
import json
import shlex
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest
from benchmark_trees import square_boxes, write_video

from pytracking.analysis.report import main as report_main

FRAME_SIZE = (200, 150)
SIDE = 18
LENGTHS = {"Alpha": 12, "Beta": 10, "x<b>&y": 8}  # the third name checks HTML escaping
FAR_BOX = (170.0, 4.0, 24.0, 12.0)  # 0-based; the test checks it never meets a ground-truth box
TRACKERS = ["shifted/p", "perfect/p", "far/p"]  # table order: neither ascending nor descending AUC
RUN_INFO = {
    "command": "python -m pytracking.run_tracker perfect p --note '<script>alert(1)</script>' & more",
    "checkpoint": None,
    "checkpoint_sha256": None,
    "seed": 0,
    "device": "cpu",
    "git_commit": "0123abc",
    "started": "2026-12-04T21:00:00+00:00",
}
NO_RUN_INFO = "no run_info.json (results written by an older version or by hand)"
GREEN = (0, 255, 0)
VOID = {"meta", "img", "br", "hr", "input", "link"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], []

    def iter(self, tag: str | None = None, **attrs: str):
        for child in self.children:
            if (tag is None or child.tag == tag) and all(child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                yield child
            yield from child.iter(tag, **attrs)

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        found = next(self.iter(tag, **attrs), None)
        assert found is not None, f"no <{tag} {attrs}>"
        return found

    def all_text(self) -> str:
        return "".join(self.text) + "".join(child.all_text() for child in self.children)


class TreeBuilder(HTMLParser):
    """A DOM-like tree of the page from the standard-library HTML parser."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    return builder.root


def decode_data_uri(uri: str, mime: str) -> np.ndarray:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix), uri[:40]
    image = cv2.imdecode(np.frombuffer(base64.b64decode(uri[len(prefix):]), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, f"undecodable {mime}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def expected_auc(tracker: str, n: int) -> float:
    """AUC (percent) in closed form: frame 0 is replaced by the ground truth (overlap 1, a success for the 20
    thresholds below 1); 'shifted' overlaps the other frames by 9*18 / (2*18*18 - 9*18) = 1/3 (a success for
    the 7 thresholds 0..0.30), 'far' by 0, 'perfect' by 1."""
    others = {"perfect/p": 20, "shifted/p": 7, "far/p": 0}[tracker]
    return 100.0 * (20 + (n - 1) * others) / (21 * n)


@pytest.fixture()
def benchmark(tmp_path):
    """OTB-style tree (1-based boxes) and result files of the three trackers; returns (root, results, 0-based truth)."""
    root, results = tmp_path / "otb", tmp_path / "results"
    truth = {}
    for seed, (name, length) in enumerate(LENGTHS.items()):
        boxes = square_boxes(length, size=FRAME_SIZE, side=SIDE, seed=seed)
        write_video(root / name / "img", boxes, size=FRAME_SIZE, name_format="{:04d}.jpg", seed=seed)
        far = np.tile(FAR_BOX, (length, 1))
        assert (np.minimum(far[:, :2] + far[:, 2:], boxes[:, :2] + boxes[:, 2:]) <= np.maximum(far[:, :2], boxes[:, :2])).any(axis=1).all()
        one_based = {"perfect/p": boxes, "shifted/p": boxes + [SIDE / 2, 0, 0, 0], "far/p": far}
        for tracker, predicted in one_based.items():
            if tracker == "far/p" and name == "x<b>&y":
                continue  # a missing result file: '-' in its cells, last in every sort
            path = results / tracker / f"{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(path, predicted + [1, 1, 0, 0], delimiter=",", fmt="%.1f")
        np.savetxt(root / name / "groundtruth_rect.txt", boxes + [1, 1, 0, 0], delimiter=",", fmt="%d")
        truth[name] = boxes
    (results / "perfect" / "p" / "run_info.json").write_text(json.dumps(RUN_INFO))
    return root, results, truth


@pytest.fixture()
def page(benchmark, tmp_path, capsys):
    root, results, truth = benchmark
    out = tmp_path / "html"
    args = ["--dataset", "otb", "--dataset-root", str(root), "--results-dir", str(results), "--trackers", *TRACKERS, "--html", str(out)]
    code = report_main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"wrote {out / 'index.html'}" in captured.err
    return out / "index.html", args, truth


def _edge_colour(image: np.ndarray, box: np.ndarray, scale: float, row_offset: int) -> np.ndarray:
    """Mean RGB of the top edge row (+ ``row_offset``) of the 0-based box scaled by ``scale``, corners left out."""
    x, y, w, _ = np.asarray(box) * scale
    left, right = round(x), round(x + w) - 1
    return image[round(y) + row_offset, left + 3:right - 2].reshape(-1, 3).mean(axis=0)


def _near(colour: np.ndarray, expected: tuple[int, int, int], tolerance: float = 45) -> bool:
    return bool(np.abs(colour - np.asarray(expected)).max() <= tolerance)


def test_page_tables_plots_thumbnails_and_provenance(page):
    path, args, truth = page
    html = path.read_text(encoding="utf-8")
    dom = parse(html)
    assert "x<b>&y" not in html and "<script>alert" not in html  # escaped
    assert "http://" not in html and "https://" not in html  # nothing to fetch

    metrics = dom.find("table", id="metrics")
    rows = list(metrics.find("tbody").iter("tr"))
    assert [r.attrs["data-tracker"] for r in rows] == TRACKERS
    headers = [th.attrs["data-key"] for th in metrics.find("thead").iter("th")]
    for row in rows:
        tracker = row.attrs["data-tracker"]
        names = [n for n in LENGTHS if not (tracker == "far/p" and n == "x<b>&y")]
        auc = np.mean([expected_auc(tracker, LENGTHS[n]) for n in names])
        cells = list(row.iter("td"))
        auc_cell = cells[headers.index("auc")]
        assert auc_cell.all_text() == f"{auc:.2f}" and float(auc_cell.attrs["data-value"]) == pytest.approx(auc, abs=1e-9)
        assert cells[headers.index("seqs")].all_text() == f"{len(names)}/3"

    plots = [dom.find("img", id=f"plot-{kind}") for kind in ("success", "precision", "norm_precision")]
    assert all(decode_data_uri(img.attrs["src"], "image/png").shape == (450, 600, 3) for img in plots)

    swatches = {s.attrs["data-label"]: s.attrs["data-color"] for s in dom.find("p", id="legend").iter("span")}
    assert list(swatches) == ["ground truth", *TRACKERS]
    colours = {label: tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)) for label, hex_colour in swatches.items()}
    assert colours["ground truth"] == GREEN and len(set(colours.values())) == 4

    sequences = dom.find("table", id="sequences")
    seq_headers = [th.attrs["data-key"] for th in sequences.find("thead").iter("th")]
    seq_rows = {r.attrs["data-sequence"]: r for r in sequences.find("tbody").iter("tr")}
    assert list(seq_rows) == sorted(LENGTHS)  # the loader's order
    for name, row in seq_rows.items():
        cells = list(row.iter("td"))
        assert cells[0].all_text() == name
        for tracker in TRACKERS:
            cell = cells[seq_headers.index(f"auc:{tracker}")]
            if tracker == "far/p" and name == "x<b>&y":
                assert cell.all_text() == "-" and cell.attrs["data-value"] == ""
            else:
                assert float(cell.attrs["data-value"]) == pytest.approx(expected_auc(tracker, LENGTHS[name]), abs=1e-9)
        figures = list(row.iter("figure"))
        n = LENGTHS[name]
        assert [int(f.attrs["data-frame"]) for f in figures] == [round(i * (n - 1) / 5) for i in range(6)]
        for figure in figures:
            index = int(figure.attrs["data-frame"])
            thumb = decode_data_uri(figure.find("img").attrs["src"], "image/jpeg")
            scale = 128 / FRAME_SIZE[1]  # thumbnails are at most 128 rows high
            assert thumb.shape == (128, round(FRAME_SIZE[0] * scale), 3)
            gt = truth[name][index]
            # the ground truth is 5 px wide (rows y-2..y+2), 'perfect' 3 px on top of it (rows y-1..y+1)
            assert _near(_edge_colour(thumb, gt, scale, -2), GREEN), (name, index, _edge_colour(thumb, gt, scale, -2))
            assert _near(_edge_colour(thumb, gt, scale, 0), colours["perfect/p"]), (name, index, _edge_colour(thumb, gt, scale, 0))
            far_edge = _edge_colour(thumb, np.asarray(FAR_BOX), scale, 0)
            assert _near(far_edge, colours["far/p"]) == (name != "x<b>&y"), (name, index, far_edge)

    assert dom.find("pre", id="report-command").all_text() == "python -m pytracking.analysis.report " + shlex.join(args)
    perfect = dom.find("div", data_tracker="perfect/p")
    shown = {td.attrs["data-key"]: td.all_text() for td in perfect.iter("td")}
    assert list(shown) == list(RUN_INFO)
    assert shown["command"] == RUN_INFO["command"] and shown["checkpoint"] == "null" and shown["git_commit"] == "0123abc"
    for tracker in ("shifted/p", "far/p"):
        assert dom.find("div", data_tracker=tracker).find("p").all_text() == NO_RUN_INFO


def test_bad_html_options_are_one_line_errors(benchmark, tmp_path, capsys):
    root, results, _ = benchmark
    args = ["--dataset", "otb", "--dataset-root", str(root), "--results-dir", str(results), "--trackers", "perfect/p"]
    a_file = tmp_path / "taken"
    a_file.write_text("")
    assert report_main(args + ["--html", str(a_file)]) == 2
    error = capsys.readouterr().err
    assert f"--html {a_file}: is a file, give a folder" in error and error.count("\n") == 1
    assert report_main(args + ["--html", str(tmp_path / "out"), "--html-frames", "-1"]) == 2
    assert "'-1' is not a frame count" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    for frame in (root / "Alpha" / "img").iterdir():
        frame.write_bytes(b"")  # no thumbnails: no frame is read
    assert report_main(args + ["--html", str(tmp_path / "out"), "--html-frames", "0"]) == 0
    dom = parse((tmp_path / "out" / "index.html").read_text(encoding="utf-8"))
    assert len(list(dom.find("table", id="sequences").find("tbody").iter("tr"))) == 3
    assert next(dom.iter("figure"), None) is None and next(dom.iter("p", id="legend"), None) is None


CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian package 'chromium' is not installed (.ci/html_test_deps.sh installs it)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _rows_after_js(tmp_path: Path, page_path: Path, sort: str, table: str) -> list[str]:
    """The row names of ``table`` in the DOM Chromium dumps after the page's script ran on ``index.html?sort=SORT``."""
    dom = parse(_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", f"{page_path.as_uri()}?sort={sort}").stdout)
    element = dom.find("table", id=table)
    header = element.find("th", data_key=sort.lstrip("-"))
    assert header.attrs.get("aria-sort") == ("descending" if sort.startswith("-") else "ascending")
    name = "data-tracker" if table == "metrics" else "data-sequence"
    return [row.attrs[name] for row in element.find("tbody").iter("tr")]


@needs_chromium
@pytest.mark.slow
@pytest.mark.e2e
def test_chromium_sorts_and_renders(page, tmp_path):
    path, _, _ = page
    # numeric sort: the AUCs are about 8.7, 39.7 and 95.2 (as text, "39.7" < "8.7" < "95.2")
    assert _rows_after_js(tmp_path, path, "auc", "metrics") == ["far/p", "shifted/p", "perfect/p"]
    assert _rows_after_js(tmp_path, path, "-auc", "metrics") == ["perfect/p", "shifted/p", "far/p"]
    # per-sequence AUC of 'far': Beta (10 frames) 9.5 > Alpha (12 frames) 7.9; the missing one stays last both ways
    assert _rows_after_js(tmp_path, path, "-auc:far/p", "sequences") == ["Beta", "Alpha", "x<b>&y"]
    assert _rows_after_js(tmp_path, path, "auc:far/p", "sequences") == ["Alpha", "Beta", "x<b>&y"]

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1100", path.as_uri())
    image = cv2.cvtColor(cv2.imread(str(shot), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert image.shape[:2] == (1100, 1400)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 500  # not a blank page
    # the plots rendered: matplotlib's first three curve colours (tab:blue, tab:orange, tab:green) cover many pixels
    for colour in ((31, 119, 180), (255, 127, 14), (44, 160, 44)):
        assert (np.abs(image.astype(int) - colour).max(axis=2) <= 12).sum() > 150, colour
