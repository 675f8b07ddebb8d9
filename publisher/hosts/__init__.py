"""Where the publisher runs: docked inside a DCC or any Qt 6 application, standalone, or started
by a Qt 5 DCC or by ftrack Connect.

``publisher.hosts.maya.show()``, ``publisher.hosts.nuke.show()``, ``publisher.hosts.houdini.show()``
dock it with each host's own mechanism (:mod:`.floating` when that fails);
``publisher.hosts.dock.dock_into(main_window)`` docks it into any Qt 6 ``QMainWindow``;
``publisher.hosts.standalone`` starts the standalone app (its Qt application, the server it
talks to, its window); all of them get their session from :mod:`publisher.connection`.
:mod:`.menu` is what the hosts' "ftrack > Publish…" entry runs: docked in Qt 6 hosts, or the
Qt-free collectors (:mod:`.collect`) and :mod:`.launch` of the app as its own process in Qt 5
hosts. :mod:`.context` reads ``FTRACK_CONTEXTID``; :mod:`.environment` keeps one application's
Qt out of the other's environment. The host modules import their host's Python API only when
called, so importing them is safe anywhere; :mod:`.menu`, :mod:`.collect`, :mod:`.launch`,
:mod:`.context` and :mod:`.environment` import no Qt. See docs/hosts.md for installing into
each host.
"""
