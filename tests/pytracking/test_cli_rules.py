"""The rules every command-line tool follows (issue 17, items 6-8): one-line errors with exit status 2 for bad input
and 1 for failures, tracebacks only with --debug, output paths checked before any work, help that names the command."""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from ltr.utils.cli_errors import ArgumentParser, run_command, working
from pytracking import cli
from pytracking.utils import cli_checks


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="tool")
    parser.add_argument("--count", type=int, default=1)
    return parser


@pytest.mark.parametrize("error, status, line", [
    (ValueError("bad --count 3"), 2, "tool: error: bad --count 3"),
    (FileNotFoundError("no such file: x.txt"), 2, "tool: error: no such file: x.txt"),
    (RuntimeError("out of\nmemory"), 1, "tool: error: out of memory"),
    (OSError(), 1, "tool: error: OSError"),
    (KeyboardInterrupt(), 130, "tool: interrupted"),
])
def test_error_types_map_to_one_line_and_a_status(error, status, line, capsys):
    def body(args: argparse.Namespace) -> int:
        raise error

    assert run_command(_parser(), [], body) == status
    assert capsys.readouterr().err == line + "\n"


def test_debug_prints_the_traceback_before_the_line(capsys):
    def body(args: argparse.Namespace) -> int:
        raise ValueError("bad value")

    assert run_command(_parser(), ["--debug"], body) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "in body" in err and err.endswith("\ntool: error: bad value\n")


def test_a_value_error_while_working_is_a_failure(capsys):
    def body(args: argparse.Namespace) -> int:
        with working():
            raise ValueError("frame 7 is broken")

    assert run_command(_parser(), [], body) == 1
    assert capsys.readouterr().err == "tool: error: frame 7 is broken\n"


def test_argparse_errors_are_one_line_and_help_returns_0(capsys):
    assert run_command(_parser(), ["--count", "many"], lambda args: 0) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tool: error: argument --count: invalid int value: 'many'")
    assert run_command(_parser(), ["--help"], lambda args: 0) == 0
    assert capsys.readouterr().out.startswith("usage: tool [-h] [--debug]")


@pytest.mark.parametrize("value, expected", [
    ("gpu", "'gpu' is not a device; use cpu, cuda or cuda:N"),
    ("cuda:x", "'cuda:x' is not a device; use cpu, cuda or cuda:N"),
    ("cuda:1", "'cuda:1': this machine has 1 CUDA device(s), cuda:0 to cuda:0"),
])
def test_device_names_the_bad_value(value, expected, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(argparse.ArgumentTypeError) as error:
        cli_checks.parse_device(value)
    assert str(error.value) == expected
    assert cli_checks.parse_device("cuda:0") == "cuda:0" and cli_checks.parse_device("cpu") == "cpu"


def test_cuda_without_cuda_says_use_cpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(argparse.ArgumentTypeError, match="'cuda': CUDA is not available here; use --device cpu"):
        cli_checks.parse_device("cuda")


def test_output_file_and_folder_checks(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    cli_checks.check_output_file("--out", None)
    cli_checks.check_output_file("--out", tmp_path / "new.txt")
    cli_checks.check_output_file("--out", tmp_path / "a" / "b" / "new.txt", make_folders=True)
    with pytest.raises(ValueError, match=f"--out {tmp_path}: is a folder, give a file name"):
        cli_checks.check_output_file("--out", tmp_path)
    with pytest.raises(ValueError, match="folder .*/a does not exist"):
        cli_checks.check_output_file("--out", tmp_path / "a" / "new.txt")
    with pytest.raises(ValueError, match="file.txt is not a folder"):
        cli_checks.check_output_file("--out", tmp_path / "file.txt" / "new.txt", make_folders=True)
    cli_checks.check_output_folder("--dir", tmp_path / "a" / "b")
    with pytest.raises(ValueError, match="file.txt: is a file, give a folder"):
        cli_checks.check_output_folder("--dir", tmp_path / "file.txt")
    with pytest.raises(ValueError, match="file.txt is not a folder"):
        cli_checks.check_output_folder("--dir", tmp_path / "file.txt" / "sub")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # the checks create nothing


# --- every atom-ebm command -------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
#: the smallest arguments that get each command past argparse to its --device
REQUIRED = {"track": ["clip.mp4"], "webcam": [], "run": ["atom_ebm", "default", "--dataset", "otb"], "demo": [],
            "train": ["bbreg", "atom_ebm"]}


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_help_names_the_command_as_called(command, capsys):
    assert cli.main([command, "--help"]) == 0
    assert capsys.readouterr().out.split()[:3] == ["usage:", "atom-ebm", command]
    module = importlib.import_module(cli.COMMANDS[command][0])
    assert module.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert help_text.split()[:4] == ["usage:", "python", "-m", module.__name__] and "--debug" in help_text


@pytest.mark.parametrize("command", list(REQUIRED))
def test_bad_device_is_one_line_naming_it(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main([command, *REQUIRED[command], "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"atom-ebm {command}: error: argument --device: ")
    assert "'gpu'" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_console_script_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pytracking.cli", "demo", "--device", "gpu"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("atom-ebm demo: error: argument --device: 'gpu' is not a device; use cpu, cuda or cuda:N "
                             "(see --help)\n")


@pytest.mark.parametrize("command, argv, message", [
    ("demo", ["--output", "{taken}"], "--output {taken}: is a file, give a folder"),
    ("report", ["--dataset", "otb", "--trackers", "a/b", "--json", "{tmp}"], "--json {tmp}: is a folder"),
    ("report", ["--dataset", "otb", "--trackers", "a/b", "--plot-dir", "{taken}"], "--plot-dir {taken}: is a file"),
    ("pack-trackingnet", ["a", "b", "--out", "{taken}/x.zip"], "--out {taken}/x.zip: {taken} is not a folder"),
])
def test_output_path_is_refused_before_any_work(command, argv, message, tmp_path, capsys, monkeypatch):
    """Checked before the data set is even looked for (none is there): one line, exit 2, nothing written."""
    monkeypatch.chdir(tmp_path)
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    values = {"taken": taken, "tmp": tmp_path}
    assert cli.main([command, *(arg.format(**values) for arg in argv)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.format(**values) in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"] and taken.read_text() == "keep me"
