"""The self-test (what the built app runs with --self-test), from the source tree."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from publisher import embedded
from publisher.selftest import STEPS, run_self_test

REPO = Path(__file__).resolve().parents[2]


def test_self_test_passes_and_cleans_up(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out = io.StringIO()
    assert run_self_test(out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert sum(line.endswith("s)") and ": OK (" in line for line in lines) == len(STEPS)
    assert "FAIL" not in out.getvalue()
    assert lines[-1].startswith("self-test PASSED")
    assert list(tmp_path.iterdir()) == []


def test_a_broken_install_fails_the_first_step_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    out = io.StringIO()
    assert run_self_test(out) == 1
    text = out.getvalue()
    assert "[1/5] start the embedded server: FAIL (FileNotFoundError" in text
    assert text.count("NOT RUN") == len(STEPS) - 1
    assert text.splitlines()[-1].startswith("self-test FAILED")
    assert list(tmp_path.iterdir()) == []


def test_cli_flag_and_subcommand_run_it():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for args in (["--self-test"], ["self-test"]):
        proc = subprocess.run([sys.executable, "-m", "publisher", *args], capture_output=True, text=True,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "self-test PASSED" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "publisher", "self-test", "--bogus"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr


def test_a_frozen_app_runs_its_server_as_itself(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert embedded.server_command() == [sys.executable, "server"]
    assert embedded.server_command("/opt/py/bin/python3") == ["/opt/py/bin/python3", "-m", "publisher", "server"]
    monkeypatch.delattr(sys, "frozen")
    assert embedded.server_command() == [sys.executable, "-m", "publisher", "server"]
