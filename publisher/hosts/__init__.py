"""Where the publisher runs: docked inside a DCC or any Qt 6 application, or standalone.

``publisher.hosts.maya.show()``, ``publisher.hosts.nuke.show()``, ``publisher.hosts.houdini.show()``
dock it with each host's own mechanism; ``publisher.hosts.dock.dock_into(main_window)`` docks it
into any Qt 6 ``QMainWindow``; ``publisher.hosts.standalone`` starts the standalone app (its
Qt application, the server it talks to, its window). All of them get their session from
:mod:`publisher.connection`.
The host modules import their host's Python API only when called, so importing them is safe
anywhere. See docs/hosts.md for installing into each host.
"""
