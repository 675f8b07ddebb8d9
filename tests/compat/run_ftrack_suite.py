"""Run ftrack's own Python API test suite with the stock client against an embedded server.

    python3 tests/compat/run_ftrack_suite.py [--keep] [-- extra pytest arguments]

Makes (or reuses) the stock client's virtual environment (the one the project's stock-client
tests use, plus the suite's own test dependencies), starts ``ftrack-publisher server --fixtures
ftrack-tests`` on a free loopback port with a fresh data folder, runs the suite from a temporary
copy, then prints passed / failed / errors and every test that did not pass with its reason
from ``docs/compatibility.md``. Exits 1 when fewer tests pass than ``ftrack_suite_minimum.txt``
records, or when a failure is not listed there; 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SUITE = HERE / "third_party" / "ftrack-python-tests"
MINIMUM_FILE = HERE / "ftrack_suite_minimum.txt"
REASONS_FILE = ROOT / "docs" / "compatibility.md"
STOCK_VERSION = "3.1.0"
#: What ftrack's README says the suite needs beside the client (termcolor 2 breaks flaky's output).
SUITE_REQUIREMENTS = ["pytest", "pytest-mock", "mock", "flaky", "termcolor<2"]
READY_RE = re.compile(r"FTRACK_SERVER=(\S+) FTRACK_API_USER=(\S+) FTRACK_API_KEY=(\S+)")
SERVER_START_TIMEOUT = 120.0
SUITE_TIMEOUT = 3600.0


@dataclass
class Outcome:
    """One test of the suite: its id (``test/unit/x.py::test_y[param]``) and how it ended."""

    test_id: str
    result: str  # passed, failed, error, skipped, xfailed, xpassed
    message: str = ""


def stock_venv_dir() -> Path:
    """The stock client's venv, where the project's own stock-client tests make it."""
    base = os.environ.get("FTRACK_PUBLISHER_STOCK_VENV")
    if base:
        return Path(base)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "ftrack-publisher-tests" / f"stock-ftrack-python-api-{STOCK_VERSION}"


def stock_python(interpreter: str | None = None) -> Path:
    """The Python of a venv with the stock client and the suite's test dependencies.

    The stock venv the project's own tests use, when its Python has a ``dbm`` backend the
    suite's file-cache tests can clean up after (gdbm or ndbm: a Python built without them
    falls back to ``dbm.dumb``, whose ``.dat``/``.dir`` files those tests' teardown does not
    know). Otherwise a venv of the same client made from ``interpreter`` or the first Python on
    this machine that has one; failing that, the stock venv anyway (those tests then fail on
    teardown, as docs/compatibility.md says).
    """
    root = stock_venv_dir()
    python = _ensure_venv(root, None)
    if _has_dbm(python):
        return python
    candidates = [interpreter, shutil.which("python3"), "/usr/bin/python3", "/usr/local/bin/python3"]
    for candidate in candidates:
        if candidate and Path(candidate).exists() and _has_dbm(Path(candidate)):
            return _ensure_venv(root.with_name(root.name + "-dbm"), Path(candidate))
    print(f"note: no Python with dbm.gnu or dbm.ndbm found; the suite's file-cache tests will fail on teardown "
          f"(see docs/compatibility.md). Give one with --python.", file=sys.stderr)
    return python


def _has_dbm(python: Path) -> bool:
    probe = "import importlib.util as u, sys; sys.exit(not (u.find_spec('_gdbm') or u.find_spec('_dbm')))"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def _ensure_venv(root: Path, interpreter: Path | None) -> Path:
    """A venv at ``root`` (made with ``interpreter``, or this Python) holding the client and the
    suite's test dependencies; made once and reused."""
    python = root / "bin" / "python"
    if not (root / ".ready").exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        if interpreter is None:
            venv.EnvBuilder(with_pip=True, clear=True).create(root)
        else:
            subprocess.run([str(interpreter), "-m", "venv", "--clear", str(root)], check=True)
        _pip(python, f"ftrack-python-api=={STOCK_VERSION}")
        (root / ".ready").write_text(STOCK_VERSION)
    if not (root / ".suite-ready").exists():
        _pip(python, *SUITE_REQUIREMENTS)
        (root / ".suite-ready").write_text(" ".join(SUITE_REQUIREMENTS))
    return python


def _pip(python: Path, *requirements: str) -> None:
    """Install ``requirements`` into the venv of ``python``; its output is shown only on failure."""
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *requirements], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip could not install {' '.join(requirements)} into {python}:\n{proc.stdout}{proc.stderr}")


class FixtureServer:
    """``ftrack-publisher server --fixtures ftrack-tests`` on a free port, in its own data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None
        self.env: dict[str, str] = {}

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "publisher", "server", "--data-dir", str(self.data_dir), "--port", "0",
             "--fixtures", "ftrack-tests"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        assert self.process.stdout is not None
        seen = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = READY_RE.search(line)
            if match:
                self.env = {"FTRACK_SERVER": match[1], "FTRACK_API_USER": match[2], "FTRACK_API_KEY": match[3]}
                # Keep draining its output so that a chatty server never blocks on a full pipe.
                import threading

                threading.Thread(target=self.process.stdout.read, daemon=True).start()
                return
        self.stop()
        raise RuntimeError("The fixture server did not start:\n" + "".join(seen))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


SUMMARY_RE = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|warnings?)\b")


def summary_counts(text: str) -> dict[str, int]:
    """pytest's closing counts (``4 failed, 529 passed, 9 xpassed in 247.94s``) by outcome; an
    expected failure that passed is ``xpassed``, not ``passed``, as pytest counts it."""
    lines = [line for line in text.splitlines() if SUMMARY_RE.search(line) and " in " in line]
    counts = {kind: 0 for kind in ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")}
    for number, kind in SUMMARY_RE.findall(lines[-1] if lines else ""):
        kind = "errors" if kind.startswith("error") else kind
        if kind in counts:
            counts[kind] = int(number)
    return counts


def run_suite(python: Path, server_env: dict[str, str], work: Path, extra: list[str]) -> tuple[list[Outcome], dict[str, int]]:
    """Run the suite from a copy in ``work`` (it writes caches and temp files where it runs);
    each test's outcome and pytest's closing counts."""
    suite = work / "suite"
    shutil.copytree(SUITE, suite)
    report = work / "junit.xml"
    env = dict(os.environ, **server_env, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={report}",
         "test/unit", *extra],
        cwd=suite, env=env, timeout=SUITE_TIMEOUT, capture_output=True, text=True,
    )
    (work / "pytest.log").write_text(proc.stdout + proc.stderr)
    if not report.exists():
        raise RuntimeError("The suite wrote no report: run it by hand to see why (see tests/compat/README.md).")
    return parse_junit(report), summary_counts(proc.stdout)


def parse_junit(path: Path) -> list[Outcome]:
    """Outcomes from pytest's JUnit XML (xfail/xpass told apart by their skip/pass messages)."""
    outcomes = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = (case.get("classname") or "").replace(".", "/")
        test_id = f"{module}.py::{case.get('name')}"
        children = {child.tag: child for child in case}
        if "error" in children:
            outcomes.append(Outcome(test_id, "error", children["error"].get("message", "")))
        elif "failure" in children:
            outcomes.append(Outcome(test_id, "failed", children["failure"].get("message", "")))
        elif "skipped" in children:
            kind = children["skipped"].get("type", "")
            outcomes.append(Outcome(test_id, "xfailed" if kind == "pytest.xfail" else "skipped"))
        else:
            outcomes.append(Outcome(test_id, "passed"))
    return outcomes


def expected_failures(path: Path = REASONS_FILE) -> dict[str, str]:
    """``test id or prefix -> reason`` from the table rows ``| `test/unit/...` | reason |``."""
    reasons = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$", line)
        if match and match[1].startswith("test/"):
            reasons[match[1]] = match[2]
    return reasons


def reason_for(test_id: str, reasons: dict[str, str]) -> str | None:
    """The listed reason for ``test_id``: an exact entry, else the longest listed prefix."""
    if test_id in reasons:
        return reasons[test_id]
    best = max((k for k in reasons if test_id.startswith(k)), key=len, default=None)
    return None if best is None else reasons[best]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the server's data folder and the report")
    parser.add_argument("--python", default=None,
                        help="a Python (3.8 or newer, with dbm.gnu or dbm.ndbm) to make the suite's venv with when "
                             "the stock venv's Python lacks both")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    python = stock_python(args.python)
    print(f"stock client venv: {python.parent.parent}", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="ftrack-suite-"))
    server = FixtureServer(work / "server")
    try:
        server.start()
        outcomes, counts = run_suite(python, server.env, work, args.pytest_args)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    minimum = int(MINIMUM_FILE.read_text().split()[0])
    reasons = expected_failures()
    unlisted = 0
    print(f"ftrack's API test suite against the embedded server ({time.monotonic() - started:.0f} s): "
          f"{counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors, "
          f"{counts['skipped']} skipped, {counts['xfailed']} xfailed, {counts['xpassed']} xpassed "
          f"(minimum passed: {minimum})")
    for outcome in outcomes:
        if outcome.result not in ("failed", "error"):
            continue
        reason = reason_for(outcome.test_id, reasons)
        if reason is None:
            unlisted += 1
            first_line = (outcome.message.strip().splitlines() or [""])[0]
            reason = f"NOT LISTED in docs/compatibility.md: {first_line[:160]}"
        print(f"  {outcome.result:6} {outcome.test_id}: {reason}")
    if counts["passed"] < minimum:
        print(f"FAIL: {counts['passed']} passed, fewer than the {minimum} recorded in {MINIMUM_FILE.name}.")
        return 1
    if unlisted:
        print(f"FAIL: {unlisted} failure(s) not listed with a reason in docs/compatibility.md.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
