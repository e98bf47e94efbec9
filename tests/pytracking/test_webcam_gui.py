"""The webcam demo's real window, used as a person uses it: on a virtual X display (Xvfb), with a GUI build of
OpenCV, the test clicks two corners with xdotool, pauses with space, and checks a screenshot for the drawn box.

The project installs the headless OpenCV; the GUI build comes from ``.gui-opencv`` (``pip install --target``,
see ``.ci/gui_test_deps.sh``), put first on the demo's PYTHONPATH so that only ``cv2`` comes from there.
Skips, with the reason, where no X server can be started (Xvfb, xdotool or ImageMagick's ``import`` missing)
or no GUI build of OpenCV is installed.
"""
from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from ltr.utils.box_io import load_boxes
from pytracking.utils.drawing import BOX_COLOR, SELECTION_COLOR
from pytracking.webcam_display import WINDOW_TITLE

REPO = Path(__file__).resolve().parents[2]
GUI_OPENCV_DIR = REPO / ".gui-opencv"
X_TOOLS = ("Xvfb", "xdotool", "import")
SCREEN = "800x600x24"
XVFB_START_TIMEOUT_S = 10
DEMO_START_TIMEOUT_S = 60
DEMO_END_TIMEOUT_S = 30
POLL_S = 0.1
CLIP_FRAMES, MAX_FRAMES, CLIP_FPS = 45, 40, 10.0
#: Wait before the first click: a 10 fps clip that kept playing would be 15 frames further on.
HOLD_S = 1.5
#: Time to track after the second click before pausing (about 10 frames at the clip's 10 fps).
TRACK_S = 1.0
#: Time for a held frame to be redrawn after a mouse move or a key (the demo redraws every 30 ms).
REDRAW_S = 0.3
#: Couple's ground truth on frame 0 (x, y, w, h), the box the test draws.
FIRST_BOX = (51, 47, 25, 62)
SHIFT = 8

PROBE = ("import json, cv2, numpy; from pytracking.utils.video_io import gui_available; "
         "print(json.dumps({'cv2': cv2.__file__, 'numpy': numpy.__file__, 'gui': gui_available()}))")


def _read_line(fd: int, timeout: float) -> str:
    """The first line written to ``fd`` (Xvfb writes the display number, then a newline: read both before closing
    the pipe, or Xvfb dies of the broken pipe); empty on EOF or timeout."""
    data, deadline = b"", time.monotonic() + timeout
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            return ""
        data += chunk
    return data.decode().strip()


@pytest.fixture
def x_display(tmp_path):
    """A fresh Xvfb server; yields its DISPLAY name."""
    missing = [tool for tool in X_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"cannot start an X server for the GUI test: {', '.join(missing)} not installed "
                    "(apt-get install xvfb xdotool imagemagick, as .ci/gui_test_deps.sh does)")
    server_log = tmp_path / "xvfb.log"
    read_fd, write_fd = os.pipe()
    with open(server_log, "w") as log:
        server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", SCREEN, "-nolisten", "tcp"],
                                  pass_fds=(write_fd,), stdout=log, stderr=subprocess.STDOUT)
    os.close(write_fd)
    number = _read_line(read_fd, XVFB_START_TIMEOUT_S)
    os.close(read_fd)
    if not number:
        server.kill()
        server.wait()
        pytest.skip(f"Xvfb did not start: {server_log.read_text().strip()[-300:]}")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def gui_env(x_display) -> dict[str, str]:
    """Environment for the demo: the virtual display and a GUI ``cv2``; everything else from this environment."""
    env = {key: value for key, value in os.environ.items() if key != "WAYLAND_DISPLAY"}
    env["DISPLAY"] = x_display
    if (GUI_OPENCV_DIR / "cv2").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUI_OPENCV_DIR), env.get("PYTHONPATH")]))
    probe = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
                           check=False)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    if not found["gui"]:
        pytest.skip(f"no GUI build of OpenCV: {found['cv2']} is headless; run .ci/gui_test_deps.sh (pip install "
                    f"--target .gui-opencv --no-deps opencv-contrib-python=={cv2.__version__})")
    assert Path(found["numpy"]).is_relative_to(sys.prefix), f"numpy must come from {sys.prefix}: {found['numpy']}"
    return env


def _xdotool(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=10, check=False).stdout


def _wait_for(what: str, check, demo: subprocess.Popen, log: Path, timeout: float):
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` if the demo exits or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if demo.poll() is not None:
            pytest.fail(f"the demo exited ({demo.returncode}) before {what}:\n{log.read_text()}")
        time.sleep(POLL_S)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()}")


def _find_window(env: dict[str, str], size: tuple[int, int]) -> tuple[str, int, int] | None:
    """(id, x, y) of the demo window once it shows a frame of ``size`` (width, height), else None."""
    for window in _xdotool(env, "search", "--name", WINDOW_TITLE).split():
        geometry = dict(line.split("=", 1) for line in _xdotool(env, "getwindowgeometry", "--shell", window).split())
        if (int(geometry.get("WIDTH", -1)), int(geometry.get("HEIGHT", -1))) == size:
            return window, int(geometry["X"]), int(geometry["Y"])
    return None


def _screenshot(env: dict[str, str], path: Path) -> np.ndarray:
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=30)
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _is(color):
    return lambda image: np.all(image == np.asarray(color, np.uint8), axis=-1)


def test_select_track_pause_in_a_real_window(tmp_path, gui_env, couple_clip, outline_share):
    clip, log, boxes_file = couple_clip(CLIP_FRAMES, CLIP_FPS), tmp_path / "demo.log", tmp_path / "boxes.txt"
    capture = cv2.VideoCapture(str(clip))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    capture.release()
    with open(log, "w") as log_file:
        demo = subprocess.Popen([sys.executable, "-m", "pytracking.run_webcam", "--source", str(clip),
                                 "--tracker", "opencv", "--param", "csrt", "--max-frames", str(MAX_FRAMES),
                                 "--save-boxes", str(boxes_file)],
                                cwd=REPO, env=gui_env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        window, left, top = _wait_for("the window", lambda: _find_window(gui_env, size), demo, log,
                                      DEMO_START_TIMEOUT_S)
        time.sleep(HOLD_S)
        x, y, w, h = FIRST_BOX
        _xdotool(gui_env, "mousemove", "--window", window, str(x), str(y), "click", "1")
        _xdotool(gui_env, "mousemove", "--window", window, str(x + w), str(y + h))
        time.sleep(REDRAW_S)
        drawing = _screenshot(gui_env, tmp_path / "drawing.png")
        _xdotool(gui_env, "click", "1")
        time.sleep(TRACK_S)
        _xdotool(gui_env, "key", "space")
        paused = _wait_for("the pause", lambda: re.search(r"frame (\d+): paused with box (\S+)", log.read_text()),
                           demo, log, DEMO_END_TIMEOUT_S)
        time.sleep(REDRAW_S)
        shot = _screenshot(gui_env, tmp_path / "paused.png")
        _xdotool(gui_env, "key", "space")
        demo.wait(timeout=DEMO_END_TIMEOUT_S)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    text = log.read_text()
    assert demo.returncode == 0, text
    # the frame was held while the box was drawn, and the box is the one clicked
    assert outline_share(drawing, FIRST_BOX, _is(SELECTION_COLOR), offset=(left, top)) >= 0.9, text
    assert "frame 0: tracking the target in box 51.0,47.0,25.0,62.0" in text
    # the paused window shows the tracked box where the log (and the boxes file) say it is
    paused_frame, paused_box = int(paused.group(1)), np.array([float(v) for v in paused.group(2).split(",")])
    assert paused_frame >= 1, text
    boxes = load_boxes(boxes_file)
    assert len(boxes) == MAX_FRAMES
    assert boxes[paused_frame] == pytest.approx(paused_box, abs=0.05)
    is_box = _is(BOX_COLOR)
    assert outline_share(shot, paused_box, is_box, offset=(left, top)) >= 0.9, f"no box at {paused_box}\n{text}"
    assert outline_share(shot, paused_box + (SHIFT, SHIFT, 0, 0), is_box, offset=(left, top)) < 0.5
