"""The contacts file: every owner of the plan present, every channel with the id it needs."""

from __future__ import annotations

import pytest
import yaml

from notification_support import EXAMPLE_CONTACTS
from vh_cutover.exceptions import PlanConfigError
from vh_cutover.notifications.contacts import load_contacts
from vh_cutover.runtime import current_plan


def _write(tmp_path, document) -> str:
    path = tmp_path / "contacts.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_example_file_covers_plan():
    contacts = load_contacts(current_plan(), EXAMPLE_CONTACTS)

    assert set(current_plan().all_logins()) <= set(contacts.people)
    assert contacts.escalation.after_minutes == 30


def test_missing_owner_names_owner_and_file(tmp_path):
    document = yaml.safe_load(EXAMPLE_CONTACTS.read_text(encoding="utf-8"))
    del document["people"]["suyingu"]
    path = _write(tmp_path, document)

    with pytest.raises(PlanConfigError) as caught:
        load_contacts(current_plan(), path)

    assert "苏崯姑(suyingu)" in str(caught.value)
    assert path in str(caught.value)


def test_channel_without_id_rejected(tmp_path):
    document = yaml.safe_load(EXAMPLE_CONTACTS.read_text(encoding="utf-8"))
    document["people"]["wangyu"] = {"mobile": "13800000001", "channels": ["feishu"]}
    path = _write(tmp_path, document)

    with pytest.raises(PlanConfigError) as caught:
        load_contacts(current_plan(), path)

    assert "feishu_open_id" in str(caught.value)
