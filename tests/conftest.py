"""Fixtures shared by every test folder: the rehearsal stand-ins served by uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

SERVER_START_TIMEOUT_SECONDS = 10.0


@pytest.fixture(scope="session")
def rehearsal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the stand-in app with uvicorn on a free loopback port and yield its base URL."""
    # Imported here so that collecting the end-to-end tests does not load FastAPI and uvicorn.
    import uvicorn

    from vh_cutover.rehearsal.app import create_app

    app = create_app(str(tmp_path_factory.mktemp("rehearsal") / "rehearsal.sqlite3"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()

    started_by = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > started_by or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
