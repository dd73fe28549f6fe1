"""The sign-off gate: a branching gate that also keeps the response and who gave it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vh_cutover.operators.gates import BranchGateOperator

RESPONSE_XCOM_KEY = "response"


class SignOffGateOperator(BranchGateOperator):
    """
    A branching gate whose response is kept in XCom under ``response``.

    A branching HITL gate returns only the chosen task ids, so the person who chose a branch
    would be lost. The rollback records that person as the actor of every undo, and the summary
    reads the chosen option from this XCom.
    """

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        # Pushed before branching, because the branch skips its other paths by raising an
        # exception out of execute_complete, so no line after the super() call runs.
        chosen = list(event.get("chosen_options") or [])
        responded_at = event.get("responded_at")
        context["ti"].xcom_push(
            key=RESPONSE_XCOM_KEY,
            value={
                "chosen_options": chosen,
                "responded_by_user": event.get("responded_by_user"),
                "responded_at": responded_at.isoformat() if isinstance(responded_at, dt.datetime) else responded_at,
                "branches": [self.options_mapping.get(option, option) for option in chosen],
            },
        )
        self.log.info("sign_off responded chosen=%s", chosen)
        return super().execute_complete(context=context, event=event)
