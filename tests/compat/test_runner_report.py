"""The compatibility runner's reading of pytest's report and of docs/compatibility.md (the run
itself is ``run_ftrack_suite.py``, five minutes, in CI)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("run_ftrack_suite", HERE / "run_ftrack_suite.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = runner  # its dataclasses look their module up there
_spec.loader.exec_module(runner)

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="5">
<testcase classname="test.unit.test_query" name="test_len" time="0.1"/>
<testcase classname="test.unit.test_query" name="test_one" time="0.1"><failure message="assert 0 == 1">x</failure></testcase>
<testcase classname="test.unit.test_cache" name="test_get[file]" time="0.1"><error message="failed on teardown">x</error></testcase>
<testcase classname="test.unit.test_session" name="test_encode" time="0.1"><skipped type="pytest.xfail" message="no encoder"/></testcase>
<testcase classname="test.unit.test_session" name="test_skip" time="0.1"><skipped type="pytest.skip" message="skip"/></testcase>
</testsuite></testsuites>
"""


def test_the_junit_report_gives_each_outcome(tmp_path):
    report = tmp_path / "junit.xml"
    report.write_text(JUNIT)
    outcomes = {o.test_id: o for o in runner.parse_junit(report)}
    assert {k: o.result for k, o in outcomes.items()} == {
        "test/unit/test_query.py::test_len": "passed",
        "test/unit/test_query.py::test_one": "failed",
        "test/unit/test_cache.py::test_get[file]": "error",
        "test/unit/test_session.py::test_encode": "xfailed",
        "test/unit/test_session.py::test_skip": "skipped",
    }
    assert outcomes["test/unit/test_query.py::test_one"].message == "assert 0 == 1"


def test_reasons_match_a_test_or_the_longest_listed_prefix():
    reasons = {"test/unit/event/test_hub.py": "hub", "test/unit/event/test_hub.py::test_wait": "wait"}
    assert runner.reason_for("test/unit/event/test_hub.py::test_wait", reasons) == "wait"
    assert runner.reason_for("test/unit/event/test_hub.py::test_connect", reasons) == "hub"
    assert runner.reason_for("test/unit/test_query.py::test_len", reasons) is None


def test_every_listed_failure_names_a_test_of_the_copied_suite():
    reasons = runner.expected_failures()
    assert reasons, "docs/compatibility.md lists the failures in a table"
    for listed, reason in reasons.items():
        assert reason.strip()
        path, _, name = listed.partition("::")
        source = runner.SUITE / path
        assert source.is_file(), listed
        if name:
            function = re.sub(r"\[.*\]$", "", name)
            assert f"def {function}(" in source.read_text(), listed


def test_the_recorded_minimum_is_a_number():
    assert int(runner.MINIMUM_FILE.read_text().split()[0]) >= 372


def test_pytests_closing_counts_are_read_as_pytest_counts():
    text = ("....F\nFAILED test/unit/x.py::test_y - assert 0\n"
            "63 failed, 372 passed, 6 skipped, 2 xfailed, 2 xpassed, 11 warnings, 118 errors in 210.05s (0:03:30)\n")
    assert runner.summary_counts(text) == {"passed": 372, "failed": 63, "errors": 118, "skipped": 6,
                                           "xfailed": 2, "xpassed": 2}
    assert runner.summary_counts("no summary") == {"passed": 0, "failed": 0, "errors": 0, "skipped": 0,
                                                   "xfailed": 0, "xpassed": 0}
