"""Imports run one way (issue 17): pytracking > trackers > ltr, the import-linter contract in pyproject.toml."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def test_layers_contract_is_kept():
    result = subprocess.run([sys.executable, "-c", LINT], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}{result.stderr}"
