"""The Qt-free publishing engine: what the window shows, what a drop becomes, and a publish.

- :mod:`publisher.publish.browse`: projects, contexts, version pages, version details.
- :mod:`publisher.publish.staging`: dropped paths -> staged components; name checks.
- :mod:`publisher.publish.runner`: a publish (version, components with byte progress, review).
- :mod:`publisher.publish.outbox`: every publish on disk before it starts; resumable after a crash.
- :mod:`publisher.publish.tracked`: a publish run through the outbox (resume, retry, cancel).
- :mod:`publisher.publish.events`: the progress events a publish reports.
- :mod:`publisher.publish.errors`: :class:`PublishError`, whose message says what to do.

Import the submodules directly; nothing here imports Qt or the embedded server.
"""

from publisher.publish.errors import PublishCancelled, PublishError

__all__ = ["PublishCancelled", "PublishError"]
