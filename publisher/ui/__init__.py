"""The PySide6 window: item models, views, delegates and workers over ``publisher.publish``.

Everything here belongs to the GUI thread except the ``run()`` bodies of the workers in
:mod:`publisher.ui.workers`, which only touch their own cloned ``Session`` and plain data.
"""

from publisher.ui import signal_refcount as _signal_refcount

# Before any signal is emitted: some PySide6 releases leak a reference of True per emit.
_signal_refcount.guard()
