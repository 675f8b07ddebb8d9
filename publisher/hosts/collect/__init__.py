"""Qt-free collectors: what the artist has open in a DCC, as items to stage.

One module per host (:mod:`.nuke`, :mod:`.maya`, :mod:`.houdini`), each with a ``collect()``
that asks the host's Python API (on the host's main thread) for the scene file and the outputs
it renders, and looks on disk for the frames each output has (:mod:`.frames`). The result is a
:class:`~publisher.hosts.collect.items.Collection`: plain data that can be staged in this process
or written to a JSON file for the standalone app started as its own process (Qt 5 hosts).

Nothing here imports Qt: the same code runs in Nuke 15 and Houdini 20.5 (PySide2), where our
PySide6 code must never load.
"""
