"""The PySide6 window: item models, views, delegates and workers over ``publisher.publish``.

Everything here belongs to the GUI thread except the ``run()`` bodies of the workers in
:mod:`publisher.ui.workers`, which only touch their own cloned ``Session`` and plain data.
"""
