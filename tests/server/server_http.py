"""A bare HTTP client for server tests: raw ``requests`` calls, no ftrack client library."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import requests


class Raw:
    """POSTs operation lists to ``/api`` of a running server and returns decoded JSON."""

    def __init__(self, url: str, user: str, key: str) -> None:
        self.url = url
        self.user = user
        self.key = key

    def headers(self, strict: bool = False, key: str | None = None) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "ftrack-user": self.user,
            "ftrack-api-key": self.key if key is None else key,
            "ftrack-strict-api": "true" if strict else "false",
        }

    def post(self, body: bytes | str, strict: bool = False, key: str | None = None) -> requests.Response:
        return requests.post(f"{self.url}/api", data=body, headers=self.headers(strict, key), timeout=60)

    def call(self, operations: list[dict], **kwargs: Any) -> Any:
        response = self.post(json.dumps(operations), **kwargs)
        assert response.headers["Content-Type"] == "application/json"
        return response.json()

    def ok(self, operations: list[dict]) -> list:
        result = self.call(operations)
        assert isinstance(result, list), result
        return result

    def query(self, expression: str) -> list[dict]:
        return self.ok([{"action": "query", "expression": expression}])[0]["data"]

    def one(self, expression: str) -> dict:
        rows = self.query(expression)
        assert len(rows) == 1, rows
        return rows[0]

    def file_params(self, component_id: str, **extra: Any) -> dict[str, Any]:
        return {"id": component_id, "username": self.user, "apiKey": self.key, **extra}

    def upload(self, component_id: str, data: bytes, name: str = "main.bin") -> requests.Response:
        meta = self.ok([{
            "action": "get_upload_metadata", "component_id": component_id, "file_name": name,
            "file_size": len(data), "checksum": md5_b64(data),
        }])[0]
        return requests.put(meta["url"], data=data, headers=meta["headers"], timeout=60)


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def create(entity_type: str, data: dict) -> dict:
    key = [data["id"]] if "id" in data else []
    return {"action": "create", "entity_type": entity_type, "entity_key": key,
            "entity_data": {"__entity_type__": entity_type, **data}}


def update(entity_type: str, key: list[str], data: dict) -> dict:
    return {"action": "update", "entity_type": entity_type, "entity_key": key,
            "entity_data": {"__entity_type__": entity_type, **data}}


def ref(entity_type: str, entity_id: str) -> dict:
    return {"__entity_type__": entity_type, "id": entity_id}
