"""install.sh and pyproject.toml pin the same versions of torch, torchvision and torchao (install.sh's fast path
checks them, pip installs pyproject's)."""
from __future__ import annotations

import re
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_install_script_and_pyproject_pin_the_same_versions():
    script = (REPO / "install.sh").read_text()
    pins = dict(re.findall(r"^(TORCH|TORCHVISION|TORCHAO)_VERSION=(\S+)", script, flags=re.MULTILINE))
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = dict(item.split("==") for item in dependencies if "==" in item)
    assert pins == {"TORCH": declared["torch"], "TORCHVISION": declared["torchvision"], "TORCHAO": declared["torchao"]}, pins
