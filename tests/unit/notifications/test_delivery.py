"""Routing, retries, at-most-once delivery per event and honest records of what did not arrive."""

from __future__ import annotations

import logging

import pytest

from notification_support import DINGTALK_SECRET, FEISHU_SECRET, TOKEN
from vh_cutover.notifications import ledger
from vh_cutover.notifications.delivery import DELIVERED, UNDELIVERED, Scope, deliver_notification, undelivered

SCOPE = Scope("vh_cutover_528", "manual__2024-05-28T08:00:00+00:00", "ftt_upgrade.confirm_ftt_upgrade")
GATE_USERS = ["luyiye", "chenanqi", "wangyu"]


def _counts(control) -> dict[str, int]:
    robot = control.get("/robots/messages").json()["messages"]
    return {
        "dingtalk": len(control.get("/chat/robot/messages").json()["messages"]),
        "wecom": sum(1 for m in robot if m["channel"] == "wecom"),
        "feishu": sum(1 for m in robot if m["channel"] == "feishu"),
    }


def test_direct_notice_uses_each_owners_channel(robots, memory_ledger):
    report = deliver_notification(GATE_USERS, "待确认", "### 待确认", event="gate_waiting.try1", scope=SCOPE)

    assert report.channels == {"dingtalk": DELIVERED, "feishu": DELIVERED}
    assert _counts(robots) == {"dingtalk": 1, "wecom": 0, "feishu": 1}
    (ding,) = robots.get("/chat/robot/messages").json()["messages"]
    assert ding["body"]["at"]["atMobiles"] == ["13800000004", "13800000001"]


def test_announcement_goes_once_to_group(robots, memory_ledger):
    everyone = ["wangyu", "huangjingwei", "chenanqi", "luyiye", "dingjian", "luyuanwei", "chenjian", "suyingu"]

    deliver_notification(everyone, "切换计划已发布", "### 计划", event="plan_announced", announcement=True, scope=SCOPE)

    assert _counts(robots) == {"dingtalk": 1, "wecom": 0, "feishu": 0}
    (ding,) = robots.get("/chat/robot/messages").json()["messages"]
    assert len(ding["body"]["at"]["atMobiles"]) == len(everyone)


def test_same_event_not_sent_twice(robots, memory_ledger):
    for _ in range(3):
        deliver_notification(GATE_USERS, "待确认", "### 待确认", event="gate_waiting.try1", scope=SCOPE)

    assert _counts(robots) == {"dingtalk": 1, "wecom": 0, "feishu": 1}


def test_new_try_is_a_new_event(robots, memory_ledger):
    deliver_notification(["luyiye"], "失败", "第 1 次", event="step_failed.try1", scope=SCOPE)
    deliver_notification(["luyiye"], "失败", "第 2 次", event="step_failed.try2", scope=SCOPE)

    assert _counts(robots)["dingtalk"] == 2


def test_failing_channel_recorded_and_retried_later(robots, memory_ledger, recorded_sleeps):
    robots.put("/control/faults", json=[{"system": "*", "method": "POST", "path_contains": "/feishu/", "status": 503}])

    report = deliver_notification(GATE_USERS, "待确认", "### 待确认", event="gate_waiting.try1", scope=SCOPE)

    assert report.channels == {"dingtalk": DELIVERED, "feishu": UNDELIVERED}
    assert not report.delivered
    assert recorded_sleeps == [1.0, 2.0]
    rows = undelivered(SCOPE.dag_id, SCOPE.run_id, [SCOPE.name])
    assert [(row["channel"], row["logins"]) for row in rows] == [("feishu", ["chenanqi"])]
    assert "503" in rows[0]["error"]

    robots.delete("/control/faults").raise_for_status()
    deliver_notification(GATE_USERS, "待确认", "### 待确认", event="gate_waiting.try1", scope=SCOPE)
    assert _counts(robots) == {"dingtalk": 1, "wecom": 0, "feishu": 1}
    assert undelivered(SCOPE.dag_id, SCOPE.run_id, [SCOPE.name]) == []


def test_timeout_leaves_no_secret_in_logs(robots, memory_ledger, recorded_sleeps, robot_connection,
                                          rehearsal_server, caplog):
    robot_connection("vh_chat", rehearsal_server + "/chat", secret=DINGTALK_SECRET, timeout=0.2)
    robots.put("/control/faults", json=[{"system": "chat", "method": "POST", "latency_ms": 1500, "status": 503}])
    caplog.set_level(logging.DEBUG)

    report = deliver_notification(["luyiye"], "待确认", "### 待确认", event="gate_waiting.try1", scope=SCOPE)

    assert report.channels == {"dingtalk": UNDELIVERED}
    assert "Timeout" in undelivered(SCOPE.dag_id, SCOPE.run_id, [SCOPE.name])[0]["error"]
    for secret in (TOKEN, DINGTALK_SECRET, FEISHU_SECRET):
        assert secret not in caplog.text
        assert secret not in str(memory_ledger.documents)


def test_unreadable_ledger_never_raises(robots, monkeypatch):
    class _Broken(ledger.MemoryBackend):
        def load(self, key):
            raise OSError("variable store down")

    monkeypatch.setattr(ledger, "backend", _Broken())

    report = deliver_notification(["luyiye"], "待确认", "### 待确认", event="gate_waiting.try1", scope=SCOPE)

    assert not report.delivered
