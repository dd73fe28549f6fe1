"""Validated model of a cutover plan: people, steps, clients, versions, windows and thresholds."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

# ASCII digits only: ``\d`` would also accept full-width digits such as "４.４.９".
VERSION_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+$"
HTTPS_URL_PATTERN = r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?/?$"
CLIENT_IDS = ("wandechu_app", "wandechu_2_0", "shadow_world")
STEP_IDS = (
    "preflight",
    "gray_rule",
    "ftt_upgrade",
    "app_switch",
    "device_switch",
    "backend_release",
    "pta_switch",
    "verify",
    "no_migration",
    "reclaim",
    "device_prompt",
    "summary",
)


def parse_version(text: str) -> tuple[int, int, int]:
    """Parse an ``x.y.z`` version into a tuple that compares numerically."""
    if not re.fullmatch(VERSION_PATTERN, text):
        raise ValueError(f"invalid version {text!r}: expected x.y.z with ASCII digits, e.g. 4.4.9")
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def _check_version(text: str) -> str:
    parse_version(text)
    return text


Version = Annotated[str, AfterValidator(_check_version)]
HttpsUrl = Annotated[str, Field(pattern=HTTPS_URL_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    """One step of the plan and the people who own it."""

    title: str = Field(min_length=1)
    owners: list[str] = Field(min_length=1)


class Dates(_Model):
    """Calendar dates of the cutover, in the plan's timezone."""

    module_freeze: dt.date
    target_finish: dt.date
    app_release: dt.date
    device_release: dt.date
    ftt_upgrade_day: dt.date


class FttDomains(_Model):
    """SDK domains of the vendor's two environments."""

    test: HttpsUrl
    prod: HttpsUrl

    @model_validator(mode="after")
    def _environments_differ(self) -> FttDomains:
        if self.test.rstrip("/") == self.prod.rstrip("/"):
            raise ValueError(f"ftt.domains.prod must differ from ftt.domains.test, both are {self.prod!r}")
        return self


class Ftt(_Model):
    """The vendor's FTT upgrade: its windows, polling and domains."""

    upgrade_window_hours: float = Field(gt=0)
    upgrade_cap_hours: float = Field(gt=0)
    poll_interval_seconds: float = Field(gt=0)
    traffic_window_seconds: int = Field(gt=0)
    domains: FttDomains

    @model_validator(mode="after")
    def _cap_covers_window(self) -> Ftt:
        if self.upgrade_cap_hours < self.upgrade_window_hours:
            raise ValueError(
                f"ftt.upgrade_cap_hours ({self.upgrade_cap_hours}) must be at least "
                f"ftt.upgrade_window_hours ({self.upgrade_window_hours})"
            )
        return self


class Client(_Model):
    """A client that embeds the virtual-human SDK."""

    name: str = Field(min_length=1)
    app_id: str = Field(min_length=1)
    current_version: Version | None = None
    last_old_version: Version | None = None
    release_version: Version | None = None


class GrayRule(_Model):
    """The gray-release rule that hides the module from old app versions, and its proof matrix."""

    client: str
    module: str
    min_version: Version
    expect_hidden: list[Version] = Field(min_length=1)
    expect_visible: list[Version] = Field(min_length=1)

    @model_validator(mode="after")
    def _matrix_agrees_with_rule(self) -> GrayRule:
        minimum = parse_version(self.min_version)
        wrong_hidden = [v for v in self.expect_hidden if parse_version(v) >= minimum]
        wrong_visible = [v for v in self.expect_visible if parse_version(v) < minimum]
        if wrong_hidden or wrong_visible:
            raise ValueError(
                f"gray_rule matrix contradicts min_version {self.min_version}: "
                f"hidden but not below it {wrong_hidden}, visible but below it {wrong_visible}"
            )
        return self


class BackendRelease(_Model):
    """The backend release shipped with the app's release."""

    service: str = Field(min_length=1)
    version: str = Field(min_length=1)
    poll_interval_seconds: float = Field(gt=0)
    cap_hours: float = Field(gt=0)


class Fleet(_Model):
    """Fleet selection and threshold of the operations-notice decision."""

    model: str = Field(min_length=1)
    module_firmware: Version
    ops_notice_threshold: float = Field(ge=0, le=1)


class DevicePrompt(_Model):
    """The in-app upgrade prompt shown after the device release is pushed."""

    client: str
    release_version: Version
    below_version: Version
    message: str = Field(min_length=1)
    poll_interval_seconds: float = Field(gt=0)
    cap_hours: float = Field(gt=0)


class Pta(_Model):
    """Settings of the PTA sync check."""

    probe_user_id: str = Field(min_length=1)


class CutoverPlan(_Model):
    """A whole cutover plan, validated across sections."""

    cutover_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    timezone: str
    coordinator: str
    people: dict[str, str] = Field(min_length=1)
    dates: Dates
    ftt: Ftt
    clients: dict[str, Client]
    gray_rule: GrayRule
    backend_release: BackendRelease
    fleet: Fleet
    device_prompt: DevicePrompt
    pta: Pta
    steps: dict[str, Step]

    @model_validator(mode="after")
    def _references_resolve(self) -> CutoverPlan:
        unknown_clients = sorted(set(self.clients) - set(CLIENT_IDS))
        if unknown_clients:
            raise ValueError(f"unknown clients {unknown_clients}: expected some of {list(CLIENT_IDS)}")
        for field, client in (("gray_rule.client", self.gray_rule.client),
                              ("device_prompt.client", self.device_prompt.client)):
            if client not in self.clients:
                raise ValueError(f"{field} {client!r} is not one of clients {sorted(self.clients)}")

        missing_steps = [step for step in STEP_IDS if step not in self.steps]
        extra_steps = sorted(set(self.steps) - set(STEP_IDS))
        if missing_steps or extra_steps:
            raise ValueError(f"steps must be exactly {list(STEP_IDS)}: missing {missing_steps}, unknown {extra_steps}")

        if self.coordinator not in self.people:
            raise ValueError(f"coordinator {self.coordinator!r} is not listed in people")
        for step_id, step in self.steps.items():
            unknown = [login for login in step.owners if login not in self.people]
            if unknown:
                raise ValueError(f"steps.{step_id}.owners names {unknown}, who are not listed in people")
        return self

    def owner_names(self, step_id: str) -> list[str]:
        """Return the display names of a step's owners, in plan order."""
        return [self.people[login] for login in self.steps[step_id].owners]

    def gate_users(self, step_id: str) -> list[str]:
        """Return the logins allowed to respond to a step's gate: its owners plus the coordinator."""
        logins = list(self.steps[step_id].owners)
        if self.coordinator not in logins:
            logins.append(self.coordinator)
        return logins

    def all_logins(self) -> list[str]:
        """Return every person named by a step, coordinator first."""
        logins = [self.coordinator]
        for step in self.steps.values():
            logins.extend(login for login in step.owners if login not in logins)
        return logins
