"""
Delivery of one notification to its people on their channels, once per event.

A notification is either *direct* (sent on each recipient's own channels, mentioning them) or an
*announcement* (sent once on the group channels, mentioning everyone the channel can reach).
A failed delivery never raises: each channel is tried a few times with backoff, the outcome is
logged and recorded in the ledger, and the run's summary lists what stayed undelivered.

NOTE: "once" has two known exceptions. A robot that accepted a message but whose response timed
out gets the message again on the next attempt. Two tasks of one step that start at the same
moment may both send the step's "started" notice, because the ledger has no compare-and-set.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vh_cutover.exceptions import CutoverError
from vh_cutover.notifications import ledger
from vh_cutover.notifications.channels import SENDERS, ChannelDeliveryError, Recipient
from vh_cutover.notifications.contacts import Contacts, load_contacts
from vh_cutover.runtime import current_plan

log = logging.getLogger(__name__)

DELIVERED = "delivered"
UNDELIVERED = "undelivered"

# Module-level indirection so tests can replace the waits between attempts with a recorder.
_sleep = time.sleep


@dataclass(frozen=True)
class Scope:
    """Ledger location of a notification: one task (or other scope) of one run."""

    dag_id: str
    run_id: str
    name: str

    @classmethod
    def of_task(cls, context: Any) -> Scope:
        ti = context["ti"]
        return cls(ti.dag_id, ti.run_id, ti.task_id)


@dataclass
class DeliveryReport:
    """Outcome of one notification: per channel, ``delivered``, ``undelivered`` or ``skipped``."""

    event: str
    channels: dict[str, str] = field(default_factory=dict)

    @property
    def delivered(self) -> bool:
        """Whether every channel the notification needed has it, now or from an earlier try."""
        return all(outcome != UNDELIVERED for outcome in self.channels.values())


def _utcnow_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _current_scope() -> Scope | None:
    """Return the scope of the running task, or ``None`` outside a task (no ledger then)."""
    try:
        from airflow.sdk import get_current_context

        return Scope.of_task(get_current_context())
    except (RuntimeError, KeyError, ImportError):
        return None


def _routes(contacts: Contacts, logins: Sequence[str], announcement: bool) -> dict[str, list[str]]:
    """Return, per channel, the logins to mention there."""
    routes: dict[str, list[str]] = {}
    if announcement:
        for channel in contacts.group.channels:
            routes[channel] = list(logins)
        return routes
    for login in logins:
        for channel in contacts.people[login].channels:
            routes.setdefault(channel, []).append(login)
    return routes


def _reachable(channel: str, recipient: Recipient) -> bool:
    contact = recipient.contact
    return {
        "dingtalk": bool(contact.mobile),
        "wecom": bool(contact.wecom_userid or contact.mobile),
        "feishu": bool(contact.feishu_open_id),
        "email": bool(contact.email),
    }[channel]


def _send_with_retries(contacts: Contacts, channel: str, title: str, text: str,
                       recipients: list[Recipient], event: str) -> tuple[bool, int, str]:
    """Send on one channel; return whether it was accepted, the attempts made and the last error."""
    policy = contacts.delivery
    error_text = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            SENDERS[channel](contacts.conn_id(channel), title, text, recipients)
            return True, attempt, ""
        except (ChannelDeliveryError, CutoverError) as error:
            error_text = str(error)
        except Exception as error:  # noqa: BLE001 - a notification must never fail the step
            # Connection lookups and provider internals raise assorted types; keep only the type,
            # since their text is not known to be free of secrets.
            error_text = f"{channel}: {type(error).__name__}"
        if attempt < policy.attempts:
            delay = min(policy.backoff_seconds * 2 ** (attempt - 1), policy.backoff_max_seconds)
            log.warning("notification retry event=%s channel=%s attempt=%d/%d delay=%.1fs error=%s",
                        event, channel, attempt, policy.attempts, delay, error_text)
            _sleep(delay)
    return False, policy.attempts, error_text


def deliver_notification(
    logins: Iterable[str],
    title: str,
    text: str,
    *,
    event: str,
    announcement: bool = False,
    scope: Scope | None = None,
    contacts: Contacts | None = None,
    extra: dict[str, Any] | None = None,
) -> DeliveryReport:
    """
    Deliver one notification unless the ledger shows it was delivered already; never raises.

    :param logins: the people the message is for (for an announcement: everyone to mention).
    :param event: name of the event, unique within the scope, e.g. ``gate_waiting.try1``.
    :param announcement: send once on the group channels instead of on each person's channels.
    :param scope: ledger scope; defaults to the running task. Without one nothing is deduplicated.
    :param extra: additional fields stored with the ledger record (e.g. ``try_number``).
    """
    logins = list(dict.fromkeys(logins))
    report = DeliveryReport(event=event)
    scope = scope or _current_scope()
    try:
        contacts = contacts or load_contacts(current_plan())
        events = ledger.load(scope.dag_id, scope.run_id, scope.name) if scope else {}
    except Exception as error:  # noqa: BLE001 - a notification must never fail the step
        log.error("notification undelivered event=%s reason=setup_failed error_type=%s error=%s",
                  event, type(error).__name__, error)
        report.channels["setup"] = UNDELIVERED
        return report

    plan = current_plan()
    record = events.get(event) or {"title": title, "logins": logins, "at": _utcnow_iso(), "channels": {},
                                   **(extra or {})}
    for channel, channel_logins in _routes(contacts, logins, announcement).items():
        previous = record["channels"].get(channel, {})
        if previous.get("status") == DELIVERED:
            log.info("notification skipped event=%s channel=%s reason=already_delivered", event, channel)
            report.channels[channel] = "skipped"
            continue

        recipients = [Recipient(login, plan.people.get(login, login), contacts.people[login])
                      for login in channel_logins if login in contacts.people]
        recipients = [r for r in recipients if _reachable(channel, r)]
        ok, attempts, error_text = _send_with_retries(contacts, channel, title, text, recipients, event)
        record["channels"][channel] = {
            "status": DELIVERED if ok else UNDELIVERED, "attempts": attempts, "error": error_text,
            "logins": [r.login for r in recipients], "at": _utcnow_iso(),
        }
        report.channels[channel] = DELIVERED if ok else UNDELIVERED
        if ok:
            log.info("notification delivered event=%s channel=%s logins=%s attempts=%d",
                     event, channel, ",".join(r.login for r in recipients), attempts)
        else:
            log.error("notification undelivered event=%s channel=%s logins=%s attempts=%d error=%s",
                      event, channel, ",".join(r.login for r in recipients), attempts, error_text)

    if scope:
        events[event] = record
        try:
            ledger.save(scope.dag_id, scope.run_id, scope.name, events)
        except Exception as error:  # noqa: BLE001 - a notification must never fail the step
            log.error("notification ledger not saved event=%s scope=%s error_type=%s", event, scope.name,
                      type(error).__name__)
    return report


def deliver(logins: Sequence[str], title: str, text: str, *, event: str | None = None,
            announcement: bool | None = None) -> bool:
    """
    Deliver a message from inside a task; return whether every channel has it.

    Without ``event`` the title names the event. A message to every person of the plan is sent as
    an announcement on the group channels unless ``announcement`` is set to ``False``.
    """
    if announcement is None:
        announcement = set(logins) >= set(current_plan().all_logins())
    return deliver_notification(logins, title, text, event=event or title, announcement=announcement).delivered


def undelivered(dag_id: str, run_id: str, scopes: Iterable[str]) -> list[dict[str, Any]]:
    """Return every channel delivery of the run that stayed undelivered, read from the ledger."""
    rows: list[dict[str, Any]] = []
    for scope in scopes:
        try:
            events = ledger.load(dag_id, run_id, scope)
        except Exception as error:  # noqa: BLE001 - the summary must still go out
            log.warning("notification ledger unreadable scope=%s error_type=%s", scope, type(error).__name__)
            continue
        for event, record in events.items():
            for channel, outcome in record.get("channels", {}).items():
                if outcome.get("status") == UNDELIVERED:
                    rows.append({"scope": scope, "event": event, "title": record.get("title", event),
                                 "channel": channel, "logins": outcome.get("logins", []),
                                 "error": outcome.get("error", ""), "at": outcome.get("at")})
    return rows
