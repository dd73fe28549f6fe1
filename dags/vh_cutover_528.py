"""
### 5.28 虚拟人生产环境切换

把万得厨APP、万得厨2.0 和影子世界APP 的虚拟人模块从 FTT 后台**测试环境**切换到升级后的**生产环境**，
然后回收测试环境。计划、负责人、版本与时间窗口来自计划配置文件（`config/cutover-plan.yaml`，
可用环境变量 `VH_CUTOVER_PLAN` 指定其他文件）。

步骤：
0. 预检：各系统可访问、参数有效、统计设备固件分布并决定是否需要运营提醒、向所有负责人发布计划（王宇）
1. 万得厨APP 灰度规则：低于最低版本的用户不显示虚拟人模块，并用版本矩阵验证（黄经纬、陈安棋）
2. 等待供应商完成 FTT 生产环境升级，卢一烨确认后通知所有人
3. 并行切换：万得厨APP 域名（丁健）、万得厨2.0 域名（陆元伟）、后端接口发布（陈健）、PTA 模块与影子世界后端（陈健、王宇）
4. 自动验证业务流程，陈安棋/卢一烨签字确认；不通过时可选择回滚到测试环境
5. 记录“历史数据不迁移”的决定及测试环境上遗留的 PTA 数据量
6. 测试同学确认后回收 FTT 测试环境（黄经纬、王宇）
7. 万得厨2.0 的 5.30 版本推送后，设置升级提示（卢一烨、苏崯姑）
8. 向所有负责人发送总结：改了什么、何时、由谁

参数 `dry_run` 打开时，每一步只读取并报告将要做的修改，不写入任何外部系统。
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from vh_cutover.exceptions import CutoverParamsError, CutoverStepError
from vh_cutover.hooks.device_fleet import DeviceFleetHook
from vh_cutover.hooks.ftt import FttHook
from vh_cutover.hooks.gray_rules import GrayRuleHook
from vh_cutover.hooks.ota import OtaHook
from vh_cutover.hooks.release_pipeline import ReleasePipelineHook
from vh_cutover.hooks.remote_config import RemoteConfigHook
from vh_cutover.notifications import messages
from vh_cutover.notifications.contacts import load_contacts
from vh_cutover.notifications.delivery import deliver, undelivered
from vh_cutover.notifications.escalation import EscalateUnansweredOperator
from vh_cutover.notifications.notifiers import (
    FttWindowExceededNotifier,
    GateWaitingNotifier,
    StepFailedNotifier,
    StepStartedNotifier,
)
from vh_cutover.operators.change import SetGrayRuleOperator, SetUpgradePromptOperator, SwitchClientEnvironmentOperator
from vh_cutover.operators.gates import ApprovalGateOperator, BranchGateOperator, assigned_users
from vh_cutover.operators.reclaim import ReclaimTestEnvironmentOperator
from vh_cutover.operators.release import BackendReleaseOperator
from vh_cutover.operators.waits import FttUpgradeSensor, OtaPushSensor
from vh_cutover.params import build_params
from vh_cutover.runtime import current_plan, run_settings
from vh_cutover.steps import preflight as preflight_steps
from vh_cutover.steps import summary as summary_steps
from vh_cutover.steps import verify as verify_steps

PLAN = current_plan()
CONTACTS = load_contacts(PLAN)
GATE_TIMEOUT = dt.timedelta(days=14)


def step_args(step_id: str) -> dict:
    """Return the owner and failure callbacks that every task of a step shares."""
    logins = PLAN.steps[step_id].owners
    notify = list(dict.fromkeys([*logins, PLAN.coordinator]))
    return {
        "owner": ",".join(PLAN.owner_names(step_id)),
        "on_failure_callback": StepFailedNotifier(logins=notify),
        "on_retry_callback": StepFailedNotifier(logins=notify, retrying=True),
        "on_execute_callback": StepStartedNotifier(step_id=step_id, logins=logins),
    }


def step_doc(step_id: str, what: str) -> str:
    """Return a task's Chinese doc: what it does and who owns it."""
    step = PLAN.steps[step_id]
    return f"**{step.title}**\n\n{what}\n\n负责人：{'、'.join(PLAN.owner_names(step_id))}"


def gate_args(step_id: str) -> dict:
    """Return the HITL arguments of a step's gate: assigned users, notifier and timeout."""
    return {
        "assigned_users": assigned_users(PLAN, step_id),
        "notifiers": [GateWaitingNotifier(logins=PLAN.gate_users(step_id))],
        "response_timeout": GATE_TIMEOUT,
        **step_args(step_id),
    }


@dag(
    dag_id="vh_cutover_528",
    dag_display_name="5.28 虚拟人生产环境切换",
    description="把各客户端的虚拟人模块从 FTT 测试环境切换到升级后的生产环境",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2024, 5, 20, tz=PLAN.timezone),
    catchup=False,
    # One cutover at a time is enforced by preflight.validate_params, which fails a run while
    # another one is running. With max_active_runs=1 a second trigger would only wait in the
    # queue and start the cutover again later; 2 lets it start at once and be refused.
    max_active_runs=2,
    tags=["cutover", "virtual-human"],
    params=build_params(PLAN),
    owner_links={
        name: f"mailto:{CONTACTS.people[login].email}"
        for login, name in PLAN.people.items()
        if login in CONTACTS.people and CONTACTS.people[login].email
    },
    default_args={
        "owner": PLAN.people[PLAN.coordinator],
        "retries": 2,
        "retry_delay": dt.timedelta(seconds=10),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=5),
    },
)
def vh_cutover_528():
    # --- 0. preflight -------------------------------------------------------------------------
    with TaskGroup("preflight", group_display_name="预检与计划通知", tooltip="预检与计划通知") as preflight:

        @task(task_display_name="校验参数", doc_md=step_doc("preflight", "按 JSON schema 之外的规则再次校验运行参数（REST 触发也会经过这里），任何写入之前失败。"), **step_args("preflight"))
        def validate_params(**context) -> dict:
            # Neither a bad parameter nor a concurrent run goes away by retrying, so both fail
            # the task at once without retries. Clearing the task checks again.
            try:
                settings = run_settings(context)
                preflight_steps.reject_concurrent_run(
                    context["run_id"], preflight_steps.other_running_runs(context["ti"]),
                )
            except CutoverParamsError as error:
                raise AirflowFailException(f"{error} 请用正确的参数重新触发一次运行：清除此任务不会改变参数。") from error
            except CutoverStepError as error:
                raise AirflowFailException(str(error)) from error
            return {"dry_run": settings.dry_run, "clients": list(settings.clients)}

        @task(task_display_name="检查各系统可访问", doc_md=step_doc("preflight", "读取每个外部系统一次，列出所有不可访问的系统。"), **step_args("preflight"))
        def check_systems(**context) -> dict:
            settings = run_settings(context)
            return preflight_steps.check_reachable({
                "ftt_test": lambda: FttHook(ftt_conn_id="vh_ftt_test").get_status(),
                "ftt_prod": lambda: FttHook(ftt_conn_id="vh_ftt_prod").get_status(),
                "gray_rules": lambda: GrayRuleHook().get_rule(PLAN.gray_rule.client, PLAN.gray_rule.module),
                "remote_config": lambda: [RemoteConfigHook().get_module(c, "virtual_human") for c in settings.clients],
                "release_pipeline": lambda: ReleasePipelineHook().get_service(PLAN.backend_release.service),
                "device_fleet": lambda: next(DeviceFleetHook().iter_devices(PLAN.fleet.model, page_size=1), None),
                "ota": lambda: OtaHook().get_release(PLAN.device_prompt.client, settings.device_release_version),
            })

        @task(task_display_name="统计设备固件分布", doc_md=step_doc("preflight", "从设备列表接口统计 DW220 在线/离线台数及固件低于虚拟人模块版本的台数。"), **step_args("preflight"))
        def compute_fleet_figures() -> dict:
            devices = DeviceFleetHook().iter_devices(PLAN.fleet.model)
            return preflight_steps.compute_fleet_figures(devices, model=PLAN.fleet.model, module_firmware=PLAN.fleet.module_firmware)

        @task.branch(task_display_name="决定是否运营提醒", doc_md=step_doc("preflight", "在线设备中固件过低的占比达到阈值时需要运营提醒，否则取消并记录原因。"), **step_args("preflight"))
        def decide_ops_notice(figures: dict, **context) -> str:
            decision = preflight_steps.decide_ops_notice(figures, threshold=run_settings(context).ops_notice_threshold)
            context["ti"].xcom_push(key="decision", value=decision)
            return "preflight.send_ops_notice" if decision["needed"] else "preflight.cancel_ops_notice"

        @task(task_display_name="取消运营提醒", doc_md=step_doc("preflight", "记录取消运营提醒的原因。"), **step_args("preflight"))
        def cancel_ops_notice(**context) -> dict:
            return context["ti"].xcom_pull(task_ids="preflight.decide_ops_notice", key="decision")

        @task(task_display_name="通知运营提醒用户", doc_md=step_doc("preflight", "通知所有负责人：需要运营提醒设备用户升级。"), **step_args("preflight"))
        def send_ops_notice(**context) -> dict:
            decision = context["ti"].xcom_pull(task_ids="preflight.decide_ops_notice", key="decision")
            deliver(PLAN.all_logins(), "需要运营提醒", f"### 需要运营提醒\n\n{decision['reason']}")
            return decision

        @task(task_display_name="发布切换计划", trigger_rule="none_failed_min_one_success", doc_md=step_doc("preflight", "向所有负责人发布步骤、负责人与日期。"), **step_args("preflight"))
        def announce_plan(**context) -> bool:
            decision = context["ti"].xcom_pull(task_ids="preflight.decide_ops_notice", key="decision") or {}
            title, text = messages.plan_announced(PLAN, dry_run=run_settings(context).dry_run, ops_notice=decision)
            return deliver(PLAN.all_logins(), title, text)

        figures = compute_fleet_figures()
        decision = decide_ops_notice(figures)
        validate_params() >> check_systems() >> figures
        decision >> [cancel_ops_notice(), send_ops_notice()] >> announce_plan()

    # --- 1. gray rule on the phone app -----------------------------------------------------------
    with TaskGroup("app_gray_rule", group_display_name="万得厨APP灰度规则", tooltip="万得厨APP灰度规则") as app_gray_rule:
        apply_gray_rule = SetGrayRuleOperator(
            task_id="apply_gray_rule",
            task_display_name="设置虚拟人模块灰度规则",
            doc_md=step_doc("gray_rule", "设置万得厨APP 虚拟人模块的灰度规则：低于最低版本（默认 V4.4.9）的用户不显示该模块。已是目标值时不写入。"),
            client=PLAN.gray_rule.client,
            module=PLAN.gray_rule.module,
            **step_args("gray_rule"),
        )

        @task(task_display_name="按版本矩阵验证灰度规则", doc_md=step_doc("gray_rule", "对版本矩阵逐一调用灰度规则评估接口，任何不符合预期都会在供应商升级前停止流程；矩阵作为证据保存在 XCom。"), **step_args("gray_rule"))
        def verify_gray_rule_matrix(**context) -> dict:
            settings = run_settings(context)
            matrix = verify_steps.evaluate_gray_matrix(PLAN, settings, GrayRuleHook())
            if not matrix["passed"] and not settings.dry_run:
                wrong = [row["version"] for row in matrix["rows"] if not row["ok"]]
                raise CutoverStepError(f"灰度规则验证失败：版本 {wrong} 的可见性与预期不符。流程在供应商升级前停止。")
            return matrix

        apply_gray_rule >> verify_gray_rule_matrix()

    # --- 2. the vendor's FTT upgrade -------------------------------------------------------------
    with TaskGroup("ftt_upgrade", group_display_name="FTT生产环境升级", tooltip="FTT生产环境升级") as ftt_upgrade:
        wait_for_ftt_upgrade = FttUpgradeSensor(
            task_id="wait_for_ftt_upgrade",
            task_display_name="等待FTT生产环境升级",
            doc_md=step_doc("ftt_upgrade", "在 triggerer 中等待 FTT 生产环境达到测试环境的版本与内容；超过升级窗口提醒负责人，超过上限则失败。"),
            window_notifiers=[FttWindowExceededNotifier(logins=PLAN.gate_users("ftt_upgrade"))],
            **step_args("ftt_upgrade"),
        )
        confirm_ftt_upgrade = ApprovalGateOperator(
            task_id="confirm_ftt_upgrade",
            task_display_name="确认FTT生产环境升级成功",
            doc_md=step_doc("ftt_upgrade", "卢一烨确认供应商升级成功后，各客户端才开始切换。"),
            subject="确认 FTT 生产环境升级成功",
            body="FTT 生产环境已报告与测试环境版本、内容一致。请确认升级成功，各客户端将开始切换到生产环境。",
            approve_label="确认升级成功",
            reject_label="升级有问题，停止切换",
            **gate_args("ftt_upgrade"),
        )

        @task(task_display_name="通知FTT升级成功", doc_md=step_doc("ftt_upgrade", "以卢一烨的名义通知所有负责人：FTT 生产环境升级成功。"), **step_args("ftt_upgrade"))
        def announce_ftt_upgrade(upgrade: dict) -> bool:
            announcer = PLAN.people[PLAN.steps["ftt_upgrade"].owners[0]]
            title, text = messages.ftt_upgraded(PLAN, announcer=announcer, version=upgrade["version"],
                                                content_revision=upgrade["content_revision"])
            return deliver(PLAN.all_logins(), title, text)

        wait_for_ftt_upgrade >> confirm_ftt_upgrade >> announce_ftt_upgrade(wait_for_ftt_upgrade.output)

    # --- 3. switch every client, in parallel -----------------------------------------------------
    approved_by = "ftt_upgrade.confirm_ftt_upgrade"
    with TaskGroup("wandechu_app", group_display_name="万得厨APP", tooltip="万得厨APP") as wandechu_app:
        SwitchClientEnvironmentOperator(
            task_id="switch_app_domain",
            task_display_name="万得厨APP切换生产域名",
            doc_md=step_doc("app_switch", "把万得厨APP 虚拟人模块的域名及相关配置改为生产环境。"),
            client="wandechu_app",
            approved_by_task_id=approved_by,
            **step_args("app_switch"),
        )

    with TaskGroup("wandechu_2_0", group_display_name="万得厨2.0", tooltip="万得厨2.0") as wandechu_2_0:
        SwitchClientEnvironmentOperator(
            task_id="switch_device_domain",
            task_display_name="万得厨2.0切换生产域名",
            doc_md=step_doc("device_switch", "把万得厨2.0 虚拟人模块的域名改为生产环境。"),
            client="wandechu_2_0",
            approved_by_task_id=approved_by,
            **step_args("device_switch"),
        )

    with TaskGroup("backend", group_display_name="后端接口", tooltip="后端接口") as backend:
        BackendReleaseOperator(
            task_id="release_backend",
            task_display_name="后端接口发布生产",
            doc_md=step_doc("backend_release", "通过发布流水线把后端接口发布到生产环境（随万得厨APP 5.28 版本），在 triggerer 中等待发布任务完成。"),
            approved_by_task_id=approved_by,
            **step_args("backend_release"),
        )

    with TaskGroup("shadow_world", group_display_name="影子世界APP / PTA", tooltip="影子世界APP / PTA") as shadow_world:
        switch_pta_backend = SwitchClientEnvironmentOperator(
            task_id="switch_pta_backend",
            task_display_name="PTA模块与影子后端切换生产",
            doc_md=step_doc("pta_switch", "把影子世界后端（PTA 模块）从测试环境改为指向升级后的生产环境。"),
            client="shadow_world",
            approved_by_task_id=approved_by,
            **step_args("pta_switch"),
        )

        @task(task_display_name="通知影子世界团队", doc_md=step_doc("pta_switch", "告知影子世界团队 PTA 后端已切换，请在月底版本中把影子世界APP 指向生产环境。"), **step_args("pta_switch"))
        def inform_shadow_world_team(**context) -> bool:
            settings = run_settings(context)
            if "shadow_world" not in settings.clients:
                raise AirflowSkipException("本次运行未选择影子世界APP。")
            title, text = messages.shadow_world_informed(PLAN, domain=settings.prod_domain)
            if settings.dry_run:
                # In a dry run the PTA backend was not switched, so telling the team it was would be false.
                return {"dry_run": True, "would_send": title}
            return deliver(PLAN.all_logins(), title, text)

        switch_pta_backend >> inform_shadow_world_team()

    # --- 4. verification and sign-off, with the way back ------------------------------------------
    with TaskGroup("verification", group_display_name="业务流程验证", tooltip="业务流程验证") as verification:

        @task(task_display_name="自动验证业务流程", trigger_rule="none_failed_min_one_success", doc_md=step_doc("verify", "只读检查生产环境：各客户端配置与 SDK 域名、PTA 同步、灰度规则、后端版本。结果交给签字确认。"), **step_args("verify"))
        def check_business_flows(**context) -> dict:
            result = verify_steps.check_business_flows(
                PLAN, run_settings(context), prod=FttHook(ftt_conn_id="vh_ftt_prod"), remote_config=RemoteConfigHook(),
                gray_rules=GrayRuleHook(), release=ReleasePipelineHook(),
            )
            return result

        checks = check_business_flows()
        sign_off = BranchGateOperator(
            task_id="sign_off",
            task_display_name="业务验证签字确认",
            doc_md=step_doc("verify", "陈安棋/卢一烨查看自动验证结果并按之前的方法验证业务流程后签字；也可以选择回滚到测试环境。如需重新验证，请清除“自动验证业务流程”及其下游任务。"),
            subject="业务流程验证：请签字确认",
            body=(
                "{% if ti.xcom_pull(task_ids='verification.check_business_flows')['dry_run'] %}"
                "**演练模式**：没有切换任何客户端，以下检查反映各系统的当前状态，未通过是预期结果。"
                "选择“验证通过，继续”会继续演练后面的步骤，选择回滚只会报告将要做的回滚。\n\n{% endif %}"
                "自动验证结果：{{ '通过' if ti.xcom_pull(task_ids='verification.check_business_flows')['passed'] else '未通过' }}\n\n"
                "{% for c in ti.xcom_pull(task_ids='verification.check_business_flows')['checks'] %}"
                "- {{ '✅' if c.ok else '❌' }} {{ c.name }}：{{ c.detail }}\n{% endfor %}"
            ),
            options=["验证通过，继续", "回滚到测试环境"],
            options_mapping={
                "验证通过，继续": "verification.verification_passed",
                "回滚到测试环境": "rollback.start_rollback",
            },
            **gate_args("verify"),
        )
        verification_passed = EmptyOperator(
            task_id="verification_passed", task_display_name="验证通过",
            doc_md=step_doc("verify", "签字确认选择“验证通过，继续”后运行，之后才记录不迁移的决定、回收测试环境并设置升级提示。"),
            **step_args("verify"),
        )
        checks >> sign_off >> verification_passed

    # A rolled-back run ends in the state "success": the rollback is a path the people at the
    # sign-off chose and the DAG completed, and every system is left in a known state. A failed
    # run would invite clearing and retrying, which has nothing left to do here. The outcome is
    # stated by the summary ("已回滚到测试环境") and by the rollback message to every owner.
    with TaskGroup("rollback", group_display_name="回滚到测试环境", tooltip="回滚到测试环境") as rollback:
        start_rollback = EmptyOperator(
            task_id="start_rollback", task_display_name="开始回滚",
            doc_md=step_doc("verify", "签字确认选择“回滚到测试环境”后运行，随后把各客户端指回测试环境并回滚后端。"),
            **step_args("verify"),
        )
        rollback_app = SwitchClientEnvironmentOperator(
            task_id="rollback_app_domain", task_display_name="万得厨APP回滚到测试环境",
            doc_md=step_doc("app_switch", "把万得厨APP 虚拟人模块指回测试环境。"),
            client="wandechu_app", environment="test", approved_by_task_id="verification.sign_off",
            **step_args("app_switch"),
        )
        rollback_device = SwitchClientEnvironmentOperator(
            task_id="rollback_device_domain", task_display_name="万得厨2.0回滚到测试环境",
            doc_md=step_doc("device_switch", "把万得厨2.0 虚拟人模块指回测试环境。"),
            client="wandechu_2_0", environment="test", approved_by_task_id="verification.sign_off",
            **step_args("device_switch"),
        )
        rollback_pta = SwitchClientEnvironmentOperator(
            task_id="rollback_pta_backend", task_display_name="影子后端回滚到测试环境",
            doc_md=step_doc("pta_switch", "把影子世界后端指回测试环境。"),
            client="shadow_world", environment="test", approved_by_task_id="verification.sign_off",
            **step_args("pta_switch"),
        )
        rollback_release = BackendReleaseOperator(
            task_id="rollback_backend", task_display_name="后端接口回滚",
            doc_md=step_doc("backend_release", "通过发布流水线把后端回滚到本次运行之前的版本。"),
            action="rollback", deploy_task_id="backend.release_backend", approved_by_task_id="verification.sign_off",
            **step_args("backend_release"),
        )

        @task(task_display_name="通知已回滚", trigger_rule="none_failed_min_one_success", doc_md=step_doc("verify", "通知所有负责人：各客户端已指回测试环境，测试环境保留。"), **step_args("verify"))
        def announce_rollback(**context) -> bool:
            if run_settings(context).dry_run:
                return deliver(PLAN.all_logins(), "演练：选择了回滚",
                               "### 演练：选择了回滚\n\n这是一次演练，没有修改任何系统；回滚任务只报告了将要做的修改。")
            return deliver(PLAN.all_logins(), "切换已回滚", "### 切换已回滚\n\n各客户端已指回 FTT 测试环境，后端已回滚，测试环境保留。请协调人安排下一次切换。")

        start_rollback >> [rollback_app, rollback_device, rollback_pta, rollback_release] >> announce_rollback()

    # --- 5. no data migration --------------------------------------------------------------------
    @task(task_display_name="记录历史数据不迁移", doc_md=step_doc("no_migration", "历史数据不迁移：测试环境产生的 PTA 数据量很少，且大多是公司测试用户。记录此决定及测试环境上遗留的 PTA 记录数。"), **step_args("no_migration"))
    def record_no_migration() -> dict:
        count = FttHook(ftt_conn_id="vh_ftt_test").count_pta_records()
        return {"decision": "不迁移", "reason": "测试环境 PTA 数据量很少，且大多是公司研发过程中的测试用户", "pta_records_left_on_test": count}

    # --- 6. reclaim the test environment ---------------------------------------------------------
    with TaskGroup("reclaim", group_display_name="FTT测试环境回收", tooltip="FTT测试环境回收") as reclaim:
        approve_reclaim = ApprovalGateOperator(
            task_id="approve_reclaim",
            task_display_name="测试同学确认回收测试环境",
            doc_md=step_doc("reclaim", "测试同学通知时间后，由黄经纬或王宇确认回收 FTT 测试环境。"),
            subject="确认回收 FTT 测试环境",
            body="回收后客户端将无法再回滚到测试环境。仍有客户端指向测试环境、测试环境仍有流量或验证未通过时，回收会被拒绝。",
            approve_label="回收测试环境",
            reject_label="暂不回收",
            **gate_args("reclaim"),
        )
        reclaim_test_environment = ReclaimTestEnvironmentOperator(
            task_id="reclaim_test_environment",
            task_display_name="回收FTT测试环境",
            doc_md=step_doc("reclaim", "确认无客户端指向测试环境、无流量且验证已通过后，回收 FTT 测试环境。"),
            verification_task_id="verification.check_business_flows",
            approved_by_task_id="reclaim.approve_reclaim",
            **step_args("reclaim"),
        )
        approve_reclaim >> reclaim_test_environment

    # --- 7. device upgrade prompt ----------------------------------------------------------------
    with TaskGroup("device_prompt", group_display_name="万得厨2.0升级提示", tooltip="万得厨2.0升级提示") as device_prompt:
        wait_for_device_push = OtaPushSensor(
            task_id="wait_for_device_push",
            task_display_name="等待万得厨2.0新版本推送",
            doc_md=step_doc("device_prompt", "在 triggerer 中等待万得厨2.0 新版本（默认 2.7.0）推送给用户。"),
            product=PLAN.device_prompt.client,
            **step_args("device_prompt"),
        )
        set_upgrade_prompt = SetUpgradePromptOperator(
            task_id="set_upgrade_prompt",
            task_display_name="设置升级提示",
            doc_md=step_doc("device_prompt", "为低于新版本的万得厨2.0 设置提示：如使用手机同步PTA报错，请升级到最新版本。"),
            client=PLAN.device_prompt.client,
            **step_args("device_prompt"),
        )
        wait_for_device_push >> set_upgrade_prompt

    # --- summary ----------------------------------------------------------------------------------
    @task(task_display_name="发送切换总结", trigger_rule="none_failed_min_one_success", doc_md=step_doc("summary", "汇总本次运行每一次外部系统变更（系统、键、修改前后、执行人、时间）及时间线，发送给所有负责人。"), **step_args("summary"))
    def send_summary(**context) -> dict:
        report = summary_steps.collect(context, PLAN)
        ti = context["ti"]
        scopes = [task.task_id for task in context["dag"].tasks] + [f"step:{step_id}" for step_id in PLAN.steps]
        report["undelivered"] = undelivered(ti.dag_id, ti.run_id, scopes)
        title, text = messages.summary(PLAN, state=report["state"], records=report["records"], timeline=report["timeline"],
                                       planned=report["planned"], undelivered=report["undelivered"])
        report["delivered"] = deliver(PLAN.all_logins(), title, text)
        return report

    summary = send_summary()
    EscalateUnansweredOperator(
        task_id="escalate_unanswered",
        task_display_name="未响应提醒与升级",
        doc_md=step_doc("summary", "在 triggerer 中观察本次运行：确认或失败通知超过设定时间（默认 30 分钟）无人处理时，再提醒负责人一次，再过同样时间通知协调人。"),
        owner=PLAN.people[PLAN.coordinator],
        retries=3,
    )
    no_migration = record_no_migration()
    preflight >> app_gray_rule >> ftt_upgrade >> [wandechu_app, wandechu_2_0, backend, shadow_world] >> verification
    sign_off >> rollback
    verification_passed >> no_migration >> reclaim
    verification_passed >> device_prompt
    [reclaim, device_prompt, rollback] >> summary


vh_cutover_528()
