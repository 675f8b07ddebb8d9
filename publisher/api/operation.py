"""Recorded edits: typed create, update and delete operations, and the change set that holds
them until ``Session.commit()`` sends them.

Entities push an operation for every create and attribute edit (``session.recorded_operations``);
the session pushes deletes. :meth:`Operations.payloads` turns the record into the smallest
equivalent list of wire operations. Used from the thread that owns the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Union

from .symbol import NOT_SET

if TYPE_CHECKING:  # pragma: no cover
    from .entity import Entity


class _Superseded:
    """The value of a recorded update that a later one replaced and that will not be sent."""

    def __repr__(self) -> str:
        return "SUPERSEDED"


#: Marks a recorded update whose value was replaced by a later one and will not be sent.
SUPERSEDED = _Superseded()


@dataclass(frozen=True)
class CreateEntityOperation:
    """``entity`` was created with ``entity_data`` (schema defaults and the given values)."""

    entity: "Entity"
    entity_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateEntityOperation:
    """``entity[attribute_name]`` was set to ``new_value`` (``NOT_SET``: the edit was undone)."""

    entity: "Entity"
    attribute_name: str
    new_value: Any


@dataclass(frozen=True)
class DeleteEntityOperation:
    """``entity`` is to be deleted."""

    entity: "Entity"


Operation = Union[CreateEntityOperation, UpdateEntityOperation, DeleteEntityOperation]


@dataclass
class _Payload:
    """A wire operation being built: folded updates land in ``data``."""

    action: str
    entity: "Entity"
    data: dict[str, Any]


class Operations:
    """The change set of a session: operations in the order they were recorded."""

    def __init__(self) -> None:
        self._operations: list[Operation] = []
        # (id(entity), attribute) -> index of the last update of that attribute.
        self._last_update: dict[tuple[int, str], int] = {}

    def push(self, operation: Operation) -> None:
        """Record ``operation`` after the others."""
        if isinstance(operation, UpdateEntityOperation):
            self._forget_superseded(operation)
        self._operations.append(operation)

    def _forget_superseded(self, operation: UpdateEntityOperation) -> None:
        entity = operation.entity
        key = (id(entity), operation.attribute_name)
        previous = self._last_update.get(key)
        if previous is not None and not self._follows_own_payload(previous, entity):
            # The earlier value will not be sent unless it directly follows a create/update of
            # the same entity (then it is folded in there). Forget it now, so that N appends to a
            # collection hold one list, not N growing copies.
            self._operations[previous] = UpdateEntityOperation(entity, operation.attribute_name, SUPERSEDED)
        self._last_update[key] = len(self._operations)

    def _follows_own_payload(self, index: int, entity: "Entity") -> bool:
        if index == 0:
            return False
        before = self._operations[index - 1]
        return before.entity is entity and not isinstance(before, DeleteEntityOperation)

    def __len__(self) -> int:
        return len(self._operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(list(self._operations))

    def take(self) -> list[Operation]:
        """Every recorded operation, leaving the change set empty."""
        operations, self._operations = self._operations, []
        self._last_update = {}
        return operations

    def clear(self) -> None:
        """Forget every recorded operation."""
        self.take()

    def payloads(self) -> list[dict[str, Any]]:
        """The wire operations for the record, compacted.

        Only the last value of an attribute is sent (folded into the create or update it
        follows when it can be); an entity created and deleted in the same batch is not sent;
        updates of an entity deleted later in the batch are dropped.
        """
        operations = self._operations
        created = {id(op.entity) for op in operations if isinstance(op, CreateEntityOperation)}
        deleted = {id(op.entity) for op in operations if isinstance(op, DeleteEntityOperation)}
        dropped = created & deleted
        last_update: dict[tuple[int, str], int] = {}
        for index, op in enumerate(operations):
            if isinstance(op, UpdateEntityOperation):
                last_update[(id(op.entity), op.attribute_name)] = index
        built: list[_Payload] = []
        for index, op in enumerate(operations):
            entity = op.entity
            if id(entity) in dropped:
                continue
            if isinstance(op, CreateEntityOperation):
                data = {k: v for k, v in op.entity_data.items() if v is not NOT_SET}
                data.update(entity.primary_key)
                built.append(_Payload("create", entity, data))
            elif isinstance(op, UpdateEntityOperation):
                if id(entity) not in deleted:  # deleted later in this batch: edits do not matter
                    self._fold_update(built, op, last_update[(id(entity), op.attribute_name)] == index)
            else:
                built.append(_Payload("delete", entity, {}))
        return [wire for wire in map(_to_wire, built) if wire is not None]

    @staticmethod
    def _fold_update(built: list[_Payload], op: UpdateEntityOperation, is_last: bool) -> None:
        entity, name, value = op.entity, op.attribute_name, op.new_value
        follows = bool(built) and built[-1].entity is entity and built[-1].action != "delete"
        if not is_last:
            # Superseded; kept only inside the payload it directly follows, so that a create
            # still carries every value it was given (the last one comes later).
            if follows and value is not NOT_SET and value is not SUPERSEDED:
                built[-1].data[name] = value
            return
        if value is NOT_SET:
            # The edit was undone: nothing to send, and a pending create forgets it too.
            if name not in entity.primary_key_attributes:
                for item in built:
                    if item.entity is entity and item.action == "create":
                        item.data.pop(name, None)
            return
        if follows:
            built[-1].data[name] = value
        else:
            built.append(_Payload("update", entity, {name: value}))


def _to_wire(payload: _Payload) -> dict[str, Any] | None:
    entity = payload.entity
    key = [str(value) for value in entity.primary_key.values()]
    if payload.action == "delete":
        return {"action": "delete", "entity_type": entity.entity_type, "entity_key": key}
    if payload.action == "update" and not payload.data:
        return None
    return {"action": payload.action, "entity_type": entity.entity_type, "entity_key": key,
            "entity_data": {"__entity_type__": entity.entity_type, **payload.data}}


__all__ = [
    "CreateEntityOperation", "DeleteEntityOperation", "Operation", "Operations", "SUPERSEDED",
    "UpdateEntityOperation",
]
