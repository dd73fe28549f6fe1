"""
Contact details of the plan's people and the notification settings, read from an untracked file.

The file maps each login of the plan to the channels that reach that person (DingTalk, WeCom or
Feishu group robots, each mentioning the person, and e-mail) and names the group channels that
carry announcements for everyone. Robot tokens and signing secrets are never in this file: they
live in the Airflow connections named by each channel.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vh_cutover.exceptions import PlanConfigError
from vh_cutover.plan.loader import PROJECT_ROOT
from vh_cutover.plan.models import CutoverPlan

ChannelName = Literal["dingtalk", "wecom", "feishu", "email"]
CHANNEL_NAMES: tuple[str, ...] = ("dingtalk", "wecom", "feishu", "email")
DEFAULT_CONN_IDS: dict[str, str] = {
    "dingtalk": "vh_chat",
    "wecom": "vh_wecom",
    "feishu": "vh_feishu",
    "email": "vh_smtp",
}


class Contact(BaseModel):
    """
    How to reach one person.

    ``channels`` lists where the person's own notices go. Each robot channel needs the id that
    robot mentions people by: ``mobile`` for DingTalk, ``wecom_userid`` or ``mobile`` for WeCom,
    ``feishu_open_id`` for Feishu; the e-mail channel needs ``email``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mobile: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,15}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    wecom_userid: str | None = Field(default=None, min_length=1)
    feishu_open_id: str | None = Field(default=None, pattern=r"^ou_[A-Za-z0-9]+$")
    channels: list[ChannelName] = Field(default_factory=lambda: ["dingtalk"], min_length=1)

    @model_validator(mode="after")
    def _channels_have_ids(self) -> Contact:
        needs = {
            "dingtalk": ("mobile", self.mobile),
            "wecom": ("wecom_userid or mobile", self.wecom_userid or self.mobile),
            "feishu": ("feishu_open_id", self.feishu_open_id),
            "email": ("email", self.email),
        }
        for channel in self.channels:
            field, value = needs[channel]
            if not value:
                raise ValueError(f"channel {channel!r} is listed but {field} is missing")
        return self


class GroupChannels(BaseModel):
    """Channels that carry announcements for everyone (plan, FTT upgrade, summary)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[ChannelName] = Field(default_factory=lambda: ["dingtalk"], min_length=1)


class Escalation(BaseModel):
    """When an unanswered gate or failure notice is repeated to its owners, then sent to the coordinator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_minutes: float = Field(default=30, gt=0)
    poll_seconds: float = Field(default=30, gt=0)


class Delivery(BaseModel):
    """Retry policy of one notification on one channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(default=3, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)
    backoff_max_seconds: float = Field(default=8.0, ge=0)


class Contacts(BaseModel):
    """Contacts of every person, keyed by login, plus group channels and notification settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: dict[str, Contact]
    group: GroupChannels = Field(default_factory=GroupChannels)
    connections: dict[ChannelName, str] = Field(default_factory=dict)
    escalation: Escalation = Field(default_factory=Escalation)
    delivery: Delivery = Field(default_factory=Delivery)

    def conn_id(self, channel: str) -> str:
        """Return the Airflow connection id of a channel: the file's choice, else the default."""
        return self.connections.get(channel) or DEFAULT_CONN_IDS[channel]


def default_contacts_path() -> Path:
    """Return ``$VH_CUTOVER_CONTACTS`` or ``config/contacts.yaml``."""
    return Path(os.environ.get("VH_CUTOVER_CONTACTS") or PROJECT_ROOT / "config" / "contacts.yaml")


def load_contacts(plan: CutoverPlan, path: str | os.PathLike[str] | None = None) -> Contacts:
    """
    Load the contacts file and check that every person the plan names has an entry.

    :raises PlanConfigError: naming the file and the people without an entry, or the invalid field.
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
