"""Browsing without dead ends: the context filter and the versions beneath a project or sequence."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from publisher.api import Session
from publisher.ui import roles


def _visible_names(browser, parent: QModelIndex = QModelIndex()) -> list[str]:
    names = []
    for row in range(browser.proxy.rowCount(parent)):
        index = browser.proxy.index(row, 0, parent)
        names.append(index.data())
        names += _visible_names(browser, index)
    return names


def _find(browser, name: str) -> QModelIndex:
    found = browser.proxy.match(browser.proxy.index(0, 0), Qt.ItemDataRole.DisplayRole, name, 1,
                                Qt.MatchFlag.MatchRecursive | Qt.MatchFlag.MatchExactly)
    return found[0] if found else QModelIndex()


def _filter(qtbot, browser, text: str) -> None:
    browser.filter.setText(text)
    qtbot.waitUntil(lambda: browser.proxy.words == text.casefold().split(), timeout=5000)


def test_context_filter_keeps_tasks_takes_two_words_says_no_match_and_restores_the_tree(qtbot, window):
    browser = window.widget.browser
    c = window.controller
    # The window opened on a task: its shot is expanded, other shots are not.
    start = browser.view.currentIndex()
    assert start.isValid()
    start_id = start.data(roles.ID)
    shot = start.parent()
    assert browser.view.isExpanded(shot)
    shot_name = shot.data()
    task_names = [browser.proxy.index(r, 0, shot).data() for r in range(browser.proxy.rowCount(shot))]
    assert len(task_names) >= 2
    expanded_before = browser._expanded_ids()

    # A matching shot comes with its tasks.
    _filter(qtbot, browser, shot_name)
    found = _find(browser, shot_name)
    assert found.isValid()
    qtbot.waitUntil(lambda: browser.proxy.rowCount(_find(browser, shot_name)) == len(task_names), timeout=10000)

    # Two words: the shot and the task.
    _filter(qtbot, browser, f"{shot_name} {task_names[-1][:4].lower()}")
    visible = _visible_names(browser)
    assert task_names[-1] in visible and shot_name in visible
    assert not browser.no_match.isVisible()

    # Nothing matches: a word, not an empty tree alone.
    _filter(qtbot, browser, "xyz")
    assert browser.proxy.rowCount() == 0
    assert browser.no_match.isVisibleTo(browser)
    assert browser.no_match.text().startswith("No context matches 'xyz'")

    # Cleared: the tree is expanded where it was, with the same task selected.
    _filter(qtbot, browser, "")
    assert not browser.no_match.isVisibleTo(browser)
    assert browser._expanded_ids() == expanded_before
    assert browser.view.currentIndex().data(roles.ID) == start_id
    assert c.context is not None and c.context.id == start_id, "filtering did not change the chosen context"


def _server_count(server, expression: str) -> int:
    check = Session(server.url, server.api_user, server.api_key)
    try:
        return len(check.query(expression).all())
    finally:
        check.close()


def test_selecting_a_project_or_sequence_lists_the_versions_beneath_it(qtbot, window, embedded_server):
    c = window.controller
    w = window.widget
    browser = w.browser
    project_index = browser.proxy.index(0, 0)
    project = project_index.data(roles.ROW)
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000) as loaded:
        browser.view.setCurrentIndex(project_index)
    expected = _server_count(embedded_server, f'select id from AssetVersion where asset.parent.project_id is "{project.id}"')
    assert expected > 0
    assert loaded.args[0] == expected
    assert w.versions.count.text().startswith(f"{expected} versions")

    sequence_index = browser.proxy.index(0, 0, project_index)
    browser.view.expand(project_index)
    sequence = sequence_index.data(roles.ROW)
    assert sequence.entity_type == "Sequence"
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000) as loaded:
        browser.view.setCurrentIndex(sequence_index)
    expected = _server_count(embedded_server,
                             f'select id from AssetVersion where asset.parent.parent_id is "{sequence.id}"')
    assert expected > 0 and loaded.args[0] == expected
    assert w.versions.proxy.rowCount() > 0
