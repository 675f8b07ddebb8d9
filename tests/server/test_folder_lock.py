"""One server per data folder: a second one refuses at once with a clear message, and the
first keeps serving; the lock dies with its holder."""

from __future__ import annotations

import pytest
import requests

from publisher.embedded import DataFolderInUseError, EmbeddedServer


def test_a_second_server_on_the_same_folder_refuses_and_the_first_keeps_working(tmp_path):
    first = EmbeddedServer(tmp_path / "data")
    first.start()
    try:
        second = EmbeddedServer(tmp_path / "data", startup_timeout=30)
        with pytest.raises(DataFolderInUseError) as caught:
            second.start()
        message = str(caught.value)
        assert "already using the data folder" in message and str(tmp_path / "data") in message
        assert f"process {first.process.pid}" in message
        assert "another --data-dir" in message
        response = requests.post(f"{first.url}/api", json=[{"action": "query_server_information"}],
                                 headers={"ftrack-user": first.api_user, "ftrack-api-key": first.api_key},
                                 timeout=10)
        assert response.status_code == 200
    finally:
        first.kill()
        first.process.wait(10)
    # The killed holder's lock is gone with it: a new server starts on the folder at once.
    third = EmbeddedServer(tmp_path / "data")
    third.start()
    third.stop()
