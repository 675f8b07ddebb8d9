"""ftrack-compatible client library: ``Session``, schema-built entities, errors. No Qt.

>>> from publisher.api import Session
>>> session = Session()  # FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY
>>> version = session.query('AssetVersion where version is 1').first()
"""

from __future__ import annotations

from .entity import Collection, Entity, MappedCollection
from .exceptions import (
    AccessorError,
    AuthenticationError,
    CommitUnconfirmedError,
    ComponentInLocationError,
    ComponentNotInLocationError,
    ConfigurationError,
    EncodeError,
    FtrackError,
    ImmutableAttributeError,
    JobFailedError,
    LocationError,
    MultipleResultsFoundError,
    NoResultFoundError,
    NotFoundError,
    ServerConnectionError,
    ServerError,
    ServerResponseError,
    TransferCancelled,
    UnknownAttributeError,
    UnrecognisedEntityTypeError,
)
from .operation import CreateEntityOperation, DeleteEntityOperation, Operations, UpdateEntityOperation
from .query import QueryResult
from .session import Session
from .symbol import NOT_SET

__all__ = [
    "AccessorError", "AuthenticationError", "Collection", "CommitUnconfirmedError", "ComponentInLocationError",
    "ComponentNotInLocationError", "ConfigurationError", "CreateEntityOperation",
    "DeleteEntityOperation", "EncodeError", "Entity", "FtrackError",
    "ImmutableAttributeError", "JobFailedError", "LocationError", "MappedCollection",
    "MultipleResultsFoundError", "NOT_SET", "NoResultFoundError", "NotFoundError", "Operations",
    "QueryResult",
    "ServerConnectionError", "ServerError", "ServerResponseError", "Session", "TransferCancelled",
    "UnknownAttributeError", "UnrecognisedEntityTypeError", "UpdateEntityOperation",
]
