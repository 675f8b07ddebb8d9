"""Symbols shared by the client: the "no value" marker and the built-in location ids."""

from __future__ import annotations


class _NotSet:
    """The value of an entity attribute that has not been fetched nor set (a singleton)."""

    _instance: "_NotSet | None" = None

    def __new__(cls) -> "_NotSet":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_SET"

    def __bool__(self) -> bool:
        return False

    def __copy__(self) -> "_NotSet":
        return self

    def __deepcopy__(self, memo: dict) -> "_NotSet":
        return self

    def __reduce__(self) -> str:
        return "NOT_SET"


#: An attribute value that is neither known from the server nor set locally.
NOT_SET = _NotSet()

#: Ids of the locations every ftrack server has.
ORIGIN_LOCATION_ID = "ce9b348f-8809-11e3-821c-20c9d081909b"
UNMANAGED_LOCATION_ID = "cb268ecc-8809-11e3-a7e2-20c9d081909b"
REVIEW_LOCATION_ID = "cd41be70-8809-11e3-b98a-20c9d081909b"
SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"
CONNECT_LOCATION_ID = "07b82a97-8cf9-11e3-9383-20c9d081909b"

#: Location name -> id for the built-in locations.
BUILTIN_LOCATIONS = {
    "ftrack.origin": ORIGIN_LOCATION_ID,
    "ftrack.unmanaged": UNMANAGED_LOCATION_ID,
    "ftrack.review": REVIEW_LOCATION_ID,
    "ftrack.server": SERVER_LOCATION_ID,
}

#: Job status values, in the order a job moves through them.
JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"
