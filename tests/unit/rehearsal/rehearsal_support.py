"""Constants and helpers shared by the rehearsal stand-in tests (named uniquely so no other conftest shadows it)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi.testclient import TestClient

AUTH_HEADERS = {"Authorization": "Bearer rehearsal-test-token"}
CUTOVER_MORNING = datetime(2024, 5, 28, 8, 0, tzinfo=timezone.utc)


def write_count(client: TestClient, system: str | None = None) -> int:
    """Return how many writes the stand-ins logged, optionally for one system."""
    params = {"system": system} if system else {}
    return client.get("/control/writes", params=params).json()["count"]


def point_client_at(client: TestClient, client_id: str, environment: str) -> dict:
    """Switch a client's ``virtual_human`` module to an FTT environment and return the stored document."""
    from vh_cutover.rehearsal.catalog import FTT_DOMAINS

    settings = {"domain": FTT_DOMAINS[environment], "environment": environment, "app_id": f"{client_id}-vh"}
    response = client.put(
        f"/remote-config/clients/{client_id}/modules/virtual_human",
        json={"settings": settings, "updated_by": "丁健", "change_key": f"switch-{client_id}-{environment}"},
    )
    response.raise_for_status()
    return response.json()
