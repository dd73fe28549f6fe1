"""Delivery of a message to people through the chat robot; a failed delivery never fails a step."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vh_cutover.hooks.chat import ChatRobotHook
from vh_cutover.notifications.contacts import load_contacts
from vh_cutover.runtime import current_plan

log = logging.getLogger(__name__)


def deliver(logins: Sequence[str], title: str, text: str, *, chat_conn_id: str = ChatRobotHook.default_conn_name) -> bool:
    """
    Send a markdown message to the group robot, mentioning each person by mobile.

    Returns whether the robot accepted it. Errors are logged, not raised, because telling people
    about a step must not change the step's outcome.
    """
    plan = current_plan()
    try:
        contacts = load_contacts(plan)
        mobiles = [contacts.people[login].mobile for login in logins if contacts.people[login].mobile]
        mentions = " ".join(f"@{mobile}" for mobile in mobiles)
        ChatRobotHook(chat_conn_id=chat_conn_id).send_markdown(
            title, f"{text}\n\n{mentions}" if mentions else text, at_mobiles=mobiles
        )
    except Exception:
        # Any failure here (file, connection, robot) is logged with its traceback and swallowed.
        log.exception("notification undelivered title=%s logins=%s", title, ",".join(logins))
        return False
    log.info("notification delivered title=%s logins=%s", title, ",".join(logins))
    return True
