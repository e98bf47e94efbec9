"""The documentation's measured tables equal the committed result files they are generated from."""
from __future__ import annotations

import json


def test_readme_tables_match_the_result_files(import_script):
    readme_tables = import_script("benchmarks/readme_tables")
    for path in (readme_tables.README, readme_tables.SPEED_DOC):
        _, stale = readme_tables.render(path.read_text(), path)
        assert stale == [], f"{path.name} blocks {stale} differ from benchmarks/results; run python benchmarks/readme_tables.py"


def test_a_changed_number_is_caught(import_script):
    readme_tables = import_script("benchmarks/readme_tables")
    readme = readme_tables.README.read_text()
    study = json.loads((readme_tables.RESULTS / readme_tables.ACCURACY_STUDY).read_text())
    auc = f"{study['variants']['held_out']['default model']['auc']:.1f}"
    row = next(line for line in readme.splitlines() if line.startswith("| `default`"))
    assert f"| {auc} |" in row  # the README shows the study's mean AUC
    _, stale = readme_tables.render(readme.replace(row, row.replace(f"| {auc} |", "| 99.9 |")), readme_tables.README)
    assert stale == ["accuracy"]
