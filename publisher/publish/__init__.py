"""The Qt-free publishing engine: what the window shows, what a drop becomes, and a publish.

- :mod:`publisher.publish.browse`: projects, contexts, version pages, version details.
- :mod:`publisher.publish.staging`: dropped paths -> staged components; name checks.
- :mod:`publisher.publish.request`: what a publish is asked to do, and what it made (data).
- :mod:`publisher.publish.steps`: the steps (check, version, component, review, roll back).
- :mod:`publisher.publish.runner`: the one run loop over a journal; ``run_publish``, ``retry``.
- :mod:`publisher.publish.journal`: where a run records its steps: in memory, or the outbox.
- :mod:`publisher.publish.outbox`: every publish on disk before it starts; resumable after a crash.
- :mod:`publisher.publish.states`: the state words (``queued``, ``done``...) as a ``str`` enum.
- :mod:`publisher.publish.events`: the progress events a publish reports.
- :mod:`publisher.publish.errors`: :class:`PublishError`, whose message says what to do, with
  its data (failure kind, leftovers).

A new publish step goes in ``steps.py`` and is called from ``runner.run_journal``; what it
records for a resume goes in ``journal.OutboxJournal``. The ``publish`` command is
:mod:`publisher.cli_publish`. Import the submodules directly; nothing here imports Qt or the
embedded server.
"""

from publisher.publish.errors import PublishCancelled, PublishError

__all__ = ["PublishCancelled", "PublishError"]
