"""Every item model of the window under pytest-qt's model tester, then changed inside the test.

The models are fed plain rows (the engine's own dataclasses), as the controller feeds them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import QModelIndex, Qt

from publisher.publish.browse import ComponentRow, ContextRow, VersionRow
from publisher.publish.staging import StagedComponent, validate_name
from publisher.ui import roles
from publisher.ui import staging_model as sm
from publisher.ui import version_model as vm
from publisher.ui.component_model import ComponentModel
from publisher.ui.context_model import ContextModel
from publisher.ui.staging_model import StagingModel
from publisher.ui.version_model import VersionModel
from publisher.ui.version_proxy import VersionProxy

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)


def ctx(id_: str, name: str, kind: str = "Shot", parent: str | None = None, children: bool = True) -> ContextRow:
    return ContextRow(id=id_, name=name, entity_type=kind, parent_id=parent, has_children=children,
                      type_name="Compositing" if kind == "Task" else None, status_name=None)


def version(i: int, asset: str = "comp", review: str = "none", context: str = "task1") -> VersionRow:
    return VersionRow(id=f"v{i}", asset_id=f"a-{asset}", asset_name=asset, asset_type="Upload", version=i,
                      status_name="In progress" if i % 2 else "Approved", status_color="#ffaa00",
                      user_name="Demo Artist" if i % 3 else "Sam", date=T0 + timedelta(hours=i),
                      comment=f"take {i}", component_count=i % 4, thumbnail_id=None, review_state=review,
                      task_id=context, context_id=context)


def staged(name: str, kind: str = "file", holes: list[int] | None = None) -> StagedComponent:
    return StagedComponent(name=name, kind=kind, path=f"/tmp/{name}.%04d.exr [1001-1010]" if kind == "sequence"
                           else f"/tmp/{name}.mov", size=2048, frame_range="1001-1010" if kind == "sequence" else None,
                           holes=holes or [], file_type=".exr" if kind == "sequence" else ".mov")


# Context tree -------------------------------------------------------------------------------

def test_context_model_loads_level_by_level(qtmodeltester, qtbot):
    model = ContextModel()
    requested: list[str | None] = []
    model.childrenRequested.connect(requested.append)
    assert model.canFetchMore(QModelIndex()) and model.hasChildren(QModelIndex())
    model.fetchMore(QModelIndex())
    assert requested == [None]
    assert not model.canFetchMore(QModelIndex()), "a second fetch while loading must not ask again"
    qtmodeltester.check(model)
    assert requested == [None], "the tester's fetchMore must not ask again while loading"

    model.set_children(None, [ctx("p1", "lighthouse", "Project"), ctx("p2", "empty", "Project")])
    assert model.rowCount() == 2
    project = model.index(0, 0)
    assert project.data() == "lighthouse"
    assert model.hasChildren(project)
    model.fetchMore(project)  # the live model tester may already have asked; never twice
    assert requested.count("p1") == 1 and not model.canFetchMore(project)
    qtmodeltester.check(model)
    assert requested.count("p1") == 1
    with qtbot.waitSignal(model.rowsInserted):
        model.set_children("p1", [ctx("s1", "sh010", parent="p1"), ctx("t1", "Compositing", "Task", "s1", False)])
    qtmodeltester.check(model)
    assert model.rowCount(project) == 2
    task = model.index(1, 0, project)
    assert task.data(roles.ENTITY_TYPE) == "Task"
    assert task.data(roles.ROW).type_name == "Compositing"
    assert not model.hasChildren(task) and not model.canFetchMore(task)
    assert model.parent(task) == project

    # a late answer for an already loaded level does not wipe it
    model.set_children("p1", [])
    assert model.rowCount(project) == 2
    # an empty level: no expander any more
    empty = model.index(1, 0)
    model.fetchMore(empty)
    assert requested.count("p2") == 1
    model.set_children("p2", [])
    assert not model.hasChildren(empty)
    # replace on refresh
    model.set_children("p1", [ctx("s9", "sh090", parent="p1")], replace=True)
    qtmodeltester.check(model)
    assert model.rowCount(project) == 1 and not model.index_for_id("t1").isValid()
    assert model.index_for_id("s9").data() == "sh090"

    # a failed load may be retried
    shot = model.index_for_id("s9")
    model.fetchMore(shot)
    assert not model.canFetchMore(shot)
    model.set_failed("s9")
    assert model.canFetchMore(shot)

    before = requested.count(None)
    model.reset()
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 0 and requested.count(None) == before + 1, "after a reset the projects load again"
    # rows for a parent that no longer exists are dropped
    model.set_children("p1", [ctx("x", "x")])
    assert model.rowCount() == 0


# Versions -----------------------------------------------------------------------------------

def test_version_model_pages(qtmodeltester, qtbot):
    model = VersionModel(page_size=10)
    pages: list[tuple[str, int, int, int]] = []
    model.pageRequested.connect(lambda *a: pages.append(a))
    qtmodeltester.check(model)
    assert not model.canFetchMore()

    gen = model.set_context("task1")
    assert not model.canFetchMore(), "nothing to fetch before the count is known"
    model.set_first_page(gen, 25, [version(i) for i in range(10)])
    assert model.rowCount() == 10
    model.fetchMore()  # the live model tester may have asked already: one request per page
    assert pages == [("task1", 10, 10, gen)]
    assert not model.canFetchMore(), "one page at a time"
    model.add_page(gen, 10, [version(i) for i in range(10, 20)])
    model.fetchMore()
    assert pages[1:] == [("task1", 20, 10, gen)]
    model.add_page(gen, 20, [version(i) for i in range(20, 25)])
    qtmodeltester.check(model)
    assert model.rowCount() == 25 and not model.canFetchMore() and len(pages) == 2

    first = model.index(3, vm.VERSION)
    assert first.data() == "v003"
    assert first.data(roles.SORT) == 3
    assert model.index(3, vm.DATE).data(roles.SORT) == (T0 + timedelta(hours=3)).timestamp()
    assert model.index(3, vm.STATUS).data(Qt.ItemDataRole.ForegroundRole).color().name() == "#ffaa00"
    assert model.index(3, vm.ASSET).data(roles.ROW).id == "v3"

    # a page from a previous context is ignored
    gen2 = model.set_context("task2")
    model.add_page(gen, 0, [version(99)])
    model.set_first_page(gen, 1, [version(99)])
    assert model.rowCount() == 0
    model.set_first_page(gen2, 3, [version(i, context="task2") for i in range(3)])
    assert model.rowCount() == 3

    # a published version appears at the top, a changed one in place
    new = version(42, asset="plate", context="task2")
    model.upsert(new)
    qtmodeltester.check(model)
    assert model.rowCount() == 4 and model.index(0, vm.ASSET).data() == "plate"
    assert model.row_for_id("v42") == 0 and model.row_for_id("v0") == 1
    changed = VersionRow(**{**new.__dict__, "review_state": "playable"})
    with qtbot.waitSignal(model.dataChanged):
        model.upsert(changed)
    assert model.rowCount() == 4 and model.index(0, vm.REVIEW).data() == "playable"

    # the server had fewer rows than counted: stop asking
    gen3 = model.set_context("task3")
    model.set_first_page(gen3, 50, [version(i) for i in range(10)])
    model.fetchMore()
    model.add_page(gen3, 10, [])
    assert not model.canFetchMore()


def test_version_model_thumbnails(qtmodeltester):
    from PySide6.QtGui import QPixmap

    model = VersionModel()
    pixmaps: dict[str, QPixmap] = {}
    model.thumbnail_lookup = pixmaps.get
    wanted: list[str] = []
    model.thumbnailRequested.connect(wanted.append)
    gen = model.set_context("t")
    row = VersionRow(**{**version(1).__dict__, "thumbnail_id": "th1"})
    model.set_first_page(gen, 1, [row])
    qtmodeltester.check(model)
    model.index(0, vm.THUMB).data(Qt.ItemDataRole.DecorationRole)
    assert "th1" in wanted
    pixmap = QPixmap(8, 8)
    pixmaps["th1"] = pixmap
    changed: list = []
    model.dataChanged.connect(lambda a, b, r: changed.append((a.row(), a.column())))
    model.thumbnail_ready("th1")
    assert changed == [(0, vm.THUMB)]
    assert model.index(0, vm.THUMB).data(Qt.ItemDataRole.DecorationRole).cacheKey() == pixmap.cacheKey()


def test_version_proxy_sorts_and_filters(qtmodeltester):
    model = VersionModel()
    proxy = VersionProxy()
    proxy.setSourceModel(model)
    gen = model.set_context("t")
    rows = [version(i, asset="comp" if i % 2 else "plate", review="playable" if i % 3 == 0 else "none")
            for i in range(1, 13)]
    model.set_first_page(gen, 12, rows)
    qtmodeltester.check(proxy)

    proxy.sort(vm.VERSION, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, vm.VERSION).data() for r in range(3)] == ["v012", "v011", "v010"]
    proxy.sort(vm.VERSION, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, vm.VERSION).data() == "v001"

    proxy.set_filter_text("plate")
    assert proxy.rowCount() == 6
    proxy.set_filter_text("plate sam")  # every word must match
    assert {proxy.index(r, vm.USER).data() for r in range(proxy.rowCount())} == {"Sam"}
    proxy.set_filter_text("")
    proxy.set_review_state("playable")
    assert proxy.rowCount() == 4
    qtmodeltester.check(proxy)
    # rows arriving later are filtered and sorted too
    model.add_page(gen, 12, [version(30, review="playable"), version(31)])
    assert proxy.rowCount() == 5
    proxy.set_review_state(None)
    assert proxy.rowCount() == 14


# Components ---------------------------------------------------------------------------------

def test_component_model(qtmodeltester):
    model = ComponentModel()
    qtmodeltester.check(model)
    rows = [ComponentRow(id="c1", name="plate", kind="sequence", file_type=".exr", size=10_000_000,
                         frame_range="1001-1050", holes=2, locations=["ftrack.server"], availability=100.0),
            ComponentRow(id="c2", name="main", kind="file", file_type=".mov", size=512, frame_range=None,
                         holes=0, locations=[], availability=0.0)]
    model.set_rows(rows)
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.names() == {"plate", "main"}
    from publisher.ui import component_model as cm

    assert model.index(0, cm.SIZE).data() == "10.0 MB"
    assert model.index(0, cm.HOLES).data() == "2"
    assert model.index(0, cm.HOLES).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(1, cm.AVAILABLE).data() == "0%"
    assert model.index(1, cm.LOCATIONS).data() == ""
    model.clear()
    assert model.rowCount() == 0


# Staging ------------------------------------------------------------------------------------

def test_staging_model_names_locations_removal(qtmodeltester, qtbot):
    model = StagingModel(locations=["ftrack.server", "ftrack.unmanaged"])
    qtmodeltester.check(model)
    model.set_existing_names({"main"})
    model.add([staged("plate", "sequence", holes=[1003, 1004]), staged("comp")])
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.index(0, sm.FRAMES).data() == "1001-1010"
    assert model.index(0, sm.HOLES).data() == "2"
    assert "1003-1004" in model.index(0, sm.HOLES).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, sm.NAME).flags() & Qt.ItemFlag.ItemIsEditable
    assert not model.index(0, sm.SOURCE).flags() & Qt.ItemFlag.ItemIsEditable
    assert model.errors() == []

    # a valid rename
    assert model.setData(model.index(1, sm.NAME), "comp_v2")
    assert model.row_at(1).name == "comp_v2"
    # taken by another staged row, by the version, invalid characters: refused with a reason
    for bad, why in (("plate", "already has"), ("MAIN", "already has"), ("my comp!", "Use only")):
        with qtbot.waitSignal(model.editRejected) as blocker:
            assert not model.setData(model.index(1, sm.NAME), bad)
        assert why in blocker.args[0]
        assert model.row_at(1).name == "comp_v2"
    # the live check the editor uses agrees with the engine
    assert model.validate_name(1, "plate") == validate_name("plate", {"plate", "main"})
    assert model.validate_name(1, "fine_name") is None

    # the version gaining a component with a staged name flags it
    model.set_existing_names({"main", "plate"})
    assert model.index(0, sm.NAME).data(roles.NAME_ERROR)
    assert model.errors() and "plate" in model.errors()[0]
    model.set_existing_names({"main"})
    assert model.errors() == []

    assert model.setData(model.index(0, sm.LOCATION), "ftrack.unmanaged")
    assert model.row_at(0).location == "ftrack.unmanaged"
    with qtbot.waitSignal(model.editRejected):
        assert not model.setData(model.index(0, sm.LOCATION), "nowhere")
    assert "choose where" in model.index(0, sm.LOCATION).data(Qt.ItemDataRole.ToolTipRole)

    # the location editor says what each location does with the files
    from PySide6.QtWidgets import QStyleOptionViewItem, QWidget

    from publisher.ui.staging_view import LocationDelegate

    parent = QWidget()
    qtbot.addWidget(parent)
    combo = LocationDelegate().createEditor(parent, QStyleOptionViewItem(), model.index(0, sm.LOCATION))
    hints = {combo.itemText(i): combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())}
    assert "Upload" in hints["ftrack.server"] and "where they are" in hints["ftrack.unmanaged"]

    with qtbot.waitSignal(model.stagingChanged):
        model.remove_rows([0])
    qtmodeltester.check(model)
    assert [c.name for c in model.components()] == ["comp_v2"]
    model.clear()
    assert model.rowCount() == 0


def test_paged_view_of_100000_versions(qtbot):
    """A view over 100,000 versions holds one page at a time and asks for the next on scroll."""
    from PySide6.QtWidgets import QTableView

    model = VersionModel(page_size=200)
    proxy = VersionProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.resize(600, 400)
    view.show()
    pages: list[tuple] = []

    def serve(context_id: str, offset: int, limit: int, generation: int) -> None:
        pages.append((offset, limit))
        model.add_page(generation, offset, [version(i) for i in range(offset, min(offset + limit, 100_000))])

    model.pageRequested.connect(serve)
    gen = model.set_context("big")
    model.set_first_page(gen, 100_000, [version(i) for i in range(200)])
    assert model.rowCount() == 200
    for _ in range(3):
        before = model.rowCount()
        view.scrollToBottom()
        qtbot.waitUntil(lambda n=before: model.rowCount() > n, timeout=5000)
    assert pages[:3] == [(200, 200), (400, 200), (600, 200)]
    assert model.rowCount() < 100_000

    # sorting a partly loaded table asks the server for that order; a fully loaded one does not
    orders: list[tuple[str, bool]] = []
    model.orderRequested.connect(lambda k, d: orders.append((k, d)))
    proxy.sort(vm.VERSION, Qt.SortOrder.AscendingOrder)
    assert orders == [("version", False)]
    gen = model.set_context("small")
    model.set_first_page(gen, 3, [version(i) for i in range(3)])
    proxy.sort(vm.ASSET, Qt.SortOrder.DescendingOrder)
    assert orders == [("version", False)]
    assert model.order_by == "asset" and model.descending


def test_staging_row_shows_the_true_hole_count_of_a_capped_list(qtmodeltester):
    model = sm.StagingModel()
    qtmodeltester.check(model)
    capped = list(range(2, 10_002))  # staging lists the first 10,000 of 999,999,998
    model.add([StagedComponent(name="f", kind="sequence", path="/p/f.%d.exr [1, 1000000000]",
                                          size=0, frame_range="1, 1000000000", holes=capped,
                                          file_type=".exr", hole_count=999_999_998)])
    holes = model.index(0, sm.HOLES)
    assert holes.data() == "999999998"
    tip = holes.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("999999998 missing: 2-10001") and tip.endswith("…")
