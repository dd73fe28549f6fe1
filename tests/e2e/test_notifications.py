"""
Who hears what during a rehearsal: per owner, every message they should get, each exactly once.

One run covers the hard cases together, because each run of the DAG costs more than a minute:
a task that fails once and retries, a WeCom robot that is down for the whole run, a gate left
unanswered past the escalation time, and tasks cleared after the run succeeded.
"""

from __future__ import annotations

import collections
import re
import time

import pytest
import yaml

from airflow_client import AirflowClient, StandIns
from standalone import ROOT

pytestmark = pytest.mark.e2e

ESCALATION_SECONDS = 6
ESCALATION_VARIABLE = "vh_cutover_escalation_after_seconds"
CLEARED_AFTER_SUCCESS = [
    "preflight.announce_plan",
    "ftt_upgrade.confirm_ftt_upgrade",
    "ftt_upgrade.announce_ftt_upgrade",
    "app_gray_rule.apply_gray_rule",
    "send_summary",
]


def _contacts() -> dict:
    return yaml.safe_load((ROOT / "config" / "contacts.example.yaml").read_text(encoding="utf-8"))["people"]


def _titles_by_login(stand_ins: StandIns) -> dict[str, list[str]]:
    """Return, per login, the titles of the messages that mention them on any robot."""
    people = _contacts()
    by_mobile = {c["mobile"]: login for login, c in people.items()}
    by_userid = {c["wecom_userid"]: login for login, c in people.items() if c.get("wecom_userid")}
    by_open_id = {c["feishu_open_id"]: login for login, c in people.items() if c.get("feishu_open_id")}
    received: dict[str, list[str]] = collections.defaultdict(list)

    for message in stand_ins.messages():
        body = message["body"]
        for mobile in body["at"]["atMobiles"]:
            received[by_mobile[mobile]].append(body["markdown"]["title"])
    robots = stand_ins.http.get("/robots/messages").raise_for_status().json()["messages"]
    for message in robots:
        body = message["body"]
        if message["channel"] == "wecom" and body["msgtype"] == "markdown":
            content = body["markdown"]["content"]
            title = content.splitlines()[0].removeprefix("### ")
            logins = [by_userid[userid] for userid in re.findall(r"<@([^>]+)>", content)]
        elif message["channel"] == "wecom":
            title = body["text"]["content"].splitlines()[0]
            logins = [by_userid[u] for u in body["text"]["mentioned_list"]]
            logins += [by_mobile[m] for m in body["text"]["mentioned_mobile_list"]]
        else:
            title = body["card"]["header"]["title"]["content"]
            logins = [by_open_id[o] for o in re.findall(r"<at id=([^>]+)></at>", body["card"]["elements"][0]["content"])]
        for login in logins:
            received[login].append(title)
    return received


def _all_titles(stand_ins: StandIns) -> tuple[list[str], int]:
    """Return the titles of every DingTalk message in the order received, and how many WeCom/Feishu messages arrived."""
    titles = [m["body"]["markdown"]["title"] for m in stand_ins.messages()]
    robots = stand_ins.http.get("/robots/messages").raise_for_status().json()["messages"]
    return titles, len(robots)


def _set_variable(client: AirflowClient, key: str, value: str) -> None:
    client.request("DELETE", f"/api/v2/variables/{key}", user="admin")
    response = client.request("POST", "/api/v2/variables", user="admin", json={"key": key, "value": value})
    assert response.status_code == 201, response.text


def _answer(client: AirflowClient, run_id: str, task_id: str, option: str, user: str) -> None:
    client.wait_for_task(run_id, task_id, {"awaiting_input"})
    response = client.answer_gate(run_id, task_id, option, user=user)
    assert response.status_code == 200, response.text


def _play(client: AirflowClient, stand_ins: StandIns, run_id: str) -> None:
    client.wait_for_task(run_id, "ftt_upgrade.wait_for_ftt_upgrade", {"deferred"}, timeout=240)
    stand_ins.upgrade_ftt("succeed", duration_seconds=1)

    # Nobody answers this gate until the reminder and the coordinator's notice have gone out.
    client.wait_for_task(run_id, "ftt_upgrade.confirm_ftt_upgrade", {"awaiting_input"})
    deadline = time.monotonic() + 120
    while not any(m["body"]["markdown"]["title"].startswith("确认无人处理") for m in stand_ins.messages()):
        assert time.monotonic() < deadline, "the coordinator was not told about the unanswered gate"
        time.sleep(1)
    _answer(client, run_id, "ftt_upgrade.confirm_ftt_upgrade", "确认升级成功", "luyiye")

    _answer(client, run_id, "verification.sign_off", "验证通过，继续", "chenanqi")
    client.wait_for_task(run_id, "reclaim.approve_reclaim", {"awaiting_input"})
    stand_ins.push_ota()
    _answer(client, run_id, "reclaim.approve_reclaim", "回收测试环境", "huangjingwei")


def test_each_owner_gets_messages_once(airflow):
    client, stand_ins, _ = airflow
    _set_variable(client, ESCALATION_VARIABLE, str(ESCALATION_SECONDS))
    try:
        stand_ins.reset()
        stand_ins.set_faults([
            # The WeCom robot is down for the whole run: its people miss their own notices.
            {"system": "*", "method": "POST", "path_contains": "/wecom/", "status": 503, "count": None},
            # The gray rule's first write fails after the hook's own retries, so the task retries once.
            {"system": "gray_rules", "method": "PUT", "path_contains": "/rules/", "status": 503, "count": 5},
        ])
        response = client.trigger({"poll_interval_seconds": 1})
        assert response.status_code == 200, response.text
        run_id = response.json()["dag_run_id"]
        _play(client, stand_ins, run_id)
        assert client.wait_for_run(run_id, timeout=300) == "success", client.task_states(run_id)

        received = _titles_by_login(stand_ins)
        before_clear = _all_titles(stand_ins)
        client.clear_tasks(run_id, CLEARED_AFTER_SUCCESS)
        _answer(client, run_id, "ftt_upgrade.confirm_ftt_upgrade", "确认升级成功", "luyiye")
        assert client.wait_for_run(run_id, timeout=300) == "success", client.task_states(run_id)
    finally:
        client.request("DELETE", f"/api/v2/variables/{ESCALATION_VARIABLE}", user="admin")

    everyone = ["切换计划已发布", "FTT生产环境升级成功", "影子世界PTA切换通知", "切换总结：切换完成"]
    expected = {
        "wangyu": everyone + ["步骤开始：预检与计划通知", "步骤失败：设置虚拟人模块灰度规则",
                              "待确认：确认FTT生产环境升级成功", "再次提醒：确认FTT生产环境升级成功",
                              "确认无人处理：确认FTT生产环境升级成功", "步骤开始：PTA模块与影子世界后端切换",
                              "步骤开始：历史数据不迁移", "步骤开始：FTT测试环境回收", "待确认：测试同学确认回收测试环境",
                              "步骤开始：总结通知"],
        "huangjingwei": everyone,
        "chenanqi": everyone + ["步骤开始：万得厨APP灰度规则", "步骤失败：设置虚拟人模块灰度规则",
                                "步骤开始：业务流程验证", "待确认：业务验证签字确认"],
        "luyiye": everyone + ["步骤开始：FTT生产环境升级", "待确认：确认FTT生产环境升级成功",
                              "再次提醒：确认FTT生产环境升级成功", "步骤开始：业务流程验证",
                              "待确认：业务验证签字确认", "步骤开始：万得厨2.0升级提示"],
        "dingjian": everyone,
        "luyuanwei": everyone + ["步骤开始：万得厨2.0切换生产域名"],
        "chenjian": everyone + ["步骤开始：后端接口发布生产", "步骤开始：PTA模块与影子世界后端切换"],
        "suyingu": everyone,
    }
    for login, titles in expected.items():
        counts = collections.Counter(received[login])
        missing = [title for title in titles if counts[title] == 0]
        doubled = [title for title, count in counts.items() if count > 1]
        assert missing == [], (login, missing, sorted(counts))
        assert doubled == [], (login, doubled)
    # Only the group announcements reached the WeCom users; the summary lists what they missed.
    for login in ("huangjingwei", "dingjian", "suyingu"):
        assert sorted(received[login]) == sorted(everyone), login
    summary = client.xcom(run_id, "send_summary")
    missed = {(row["title"], tuple(row["logins"])) for row in summary["undelivered"]}
    assert missed >= {
        ("步骤开始：万得厨APP灰度规则", ("huangjingwei",)),
        ("步骤失败：设置虚拟人模块灰度规则", ("huangjingwei",)),
        ("步骤开始：万得厨APP切换生产域名", ("dingjian",)),
        ("步骤开始：FTT测试环境回收", ("huangjingwei",)),
        ("待确认：测试同学确认回收测试环境", ("huangjingwei",)),
        ("步骤开始：万得厨2.0升级提示", ("suyingu",)),
    }
    # Every row is a WeCom notice that indeed never arrived; delivered ones are not listed.
    for row in summary["undelivered"]:
        assert row["channel"] == "wecom", row
        for login in row["logins"]:
            assert row["title"] not in received[login], row

    # After clearing tasks of a finished run, only the gate's new request reached anyone.
    (titles_before, robots_before), (titles_after, robots_after) = before_clear, _all_titles(stand_ins)
    assert titles_after[: len(titles_before)] == titles_before
    assert titles_after[len(titles_before):] == ["待确认：确认FTT生产环境升级成功"]
    assert robots_after == robots_before
