"""Contact details of the plan's people, read from an untracked file outside the repository's code."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vh_cutover.exceptions import PlanConfigError
from vh_cutover.plan.loader import PROJECT_ROOT
from vh_cutover.plan.models import CutoverPlan


class Contact(BaseModel):
    """How to reach one person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mobile: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,15}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class Contacts(BaseModel):
    """Contacts of every person, keyed by login."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: dict[str, Contact]


def default_contacts_path() -> Path:
    """Return ``$VH_CUTOVER_CONTACTS`` or ``config/contacts.yaml``."""
    return Path(os.environ.get("VH_CUTOVER_CONTACTS") or PROJECT_ROOT / "config" / "contacts.yaml")


def load_contacts(plan: CutoverPlan, path: str | os.PathLike[str] | None = None) -> Contacts:
    """
    Load the contacts file and check that every person the plan names has an entry.

    :raises PlanConfigError: naming the file and the people without an entry.
    """
    contacts_path = Path(path) if path else default_contacts_path()
    try:
        raw = yaml.safe_load(contacts_path.read_text(encoding="utf-8"))
        contacts = Contacts.model_validate(raw)
    except FileNotFoundError:
        raise PlanConfigError(
            f"contacts file not found: {contacts_path}; copy config/contacts.example.yaml there "
            "or set VH_CUTOVER_CONTACTS"
        ) from None
    except (yaml.YAMLError, ValidationError) as error:
        raise PlanConfigError(f"contacts file {contacts_path} is invalid: {error}") from None

    missing = [login for login in plan.all_logins() if login not in contacts.people]
    if missing:
        names = [f"{plan.people[login]}({login})" for login in missing]
        raise PlanConfigError(f"contacts file {contacts_path} has no entry for {', '.join(names)}")
    return contacts
