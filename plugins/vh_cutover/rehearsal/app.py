"""FastAPI application factory of the rehearsal stand-ins.

Creating the app touches no disk: the state file is opened, and created and seeded when
missing, by the first request.
"""

from __future__ import annotations

from fastapi import FastAPI

from vh_cutover.rehearsal.dependencies import FaultInjected, fault_response
from vh_cutover.rehearsal.routers import chat, control, fleet, ftt, gray_rules, ota, releases, remote_config, robots
from vh_cutover.rehearsal.store import RehearsalStore, resolve_db_path


def create_app(db_path: str | None = None) -> FastAPI:
    """Build the stand-in app with one router per outside system plus ``/control``.

    :param db_path: SQLite state file; defaults to ``VH_REHEARSAL_DB``, then
        ``$AIRFLOW_HOME/rehearsal.sqlite3``, then ``rehearsal.sqlite3`` in the working directory.
    """
    app = FastAPI(
        title="虚拟人切换演练替身服务",
        description="演练用的外部系统替身：FTT 后台、灰度规则、远程配置、发布流水线、设备、OTA 与群机器人。",
        version="1.0.0",
    )
    app.state.store = RehearsalStore(resolve_db_path(db_path))

    app.add_exception_handler(FaultInjected, fault_response)
    app.add_exception_handler(chat.ChatRejected, chat.chat_rejected_response)

    for module in (ftt, gray_rules, remote_config, releases, fleet, ota, chat, robots, control):
        app.include_router(module.router)
    return app
