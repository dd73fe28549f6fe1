"""SQLite state of the rehearsal stand-ins.

The Airflow api-server may run several worker processes, so nothing is cached in memory:
every request opens a connection, runs one transaction and closes it. Writers take the
lock up front with ``BEGIN IMMEDIATE``; WAL mode lets readers run next to a writer, and
the busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vh_cutover.exceptions import RehearsalStateError
from vh_cutover.rehearsal import clock, seed

log = logging.getLogger(__name__)

DB_ENV_VAR = "VH_REHEARSAL_DB"
DB_FILE_NAME = "rehearsal.sqlite3"
BUSY_TIMEOUT_SECONDS = 10.0

# Bumped whenever the schema changes; a file with an older number is rebuilt and reseeded.
SCHEMA_VERSION = 3

_TABLES: dict[str, str] = {
    "ftt_environments": """
        CREATE TABLE ftt_environments (
            environment TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            content_revision TEXT NOT NULL,
            reclaimed INTEGER NOT NULL DEFAULT 0,
            reclaimed_at REAL,
            reclaim_key TEXT,
            upgrade_state TEXT NOT NULL DEFAULT 'idle',
            upgrade_target_version TEXT,
            upgrade_target_revision TEXT,
            upgrade_outcome TEXT,
            upgrade_duration_seconds REAL,
            upgrade_started_at REAL,
            upgrade_finished_at REAL,
            upgrade_message TEXT NOT NULL DEFAULT ''
        )""",
    "pta_records": """
        CREATE TABLE pta_records (
            record_id INTEGER PRIMARY KEY,
            environment TEXT NOT NULL,
            user_id TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
    "gray_rules": """
        CREATE TABLE gray_rules (
            client TEXT NOT NULL,
            module TEXT NOT NULL,
            min_version TEXT,
            revision INTEGER NOT NULL DEFAULT 0,
            updated_by TEXT,
            change_key TEXT,
            updated_at REAL,
            PRIMARY KEY (client, module)
        )""",
    "remote_config": """
        CREATE TABLE remote_config (
            client TEXT NOT NULL,
            module TEXT NOT NULL,
            settings TEXT NOT NULL,
            revision INTEGER NOT NULL DEFAULT 0,
            updated_by TEXT,
            change_key TEXT,
            updated_at REAL,
            PRIMARY KEY (client, module)
        )""",
    "services": """
        CREATE TABLE services (
            service TEXT PRIMARY KEY,
            deployed_version TEXT,
            previous_version TEXT,
            deployed_by_key TEXT
        )""",
    "release_jobs": """
        CREATE TABLE release_jobs (
            job_number INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL UNIQUE,
            idempotency_key TEXT NOT NULL UNIQUE,
            service TEXT NOT NULL,
            version TEXT NOT NULL,
            action TEXT NOT NULL,
            state TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            will_fail INTEGER NOT NULL,
            created_at REAL NOT NULL,
            duration_seconds REAL NOT NULL,
            finished_at REAL
        )""",
    "devices": """
        CREATE TABLE devices (
            position INTEGER PRIMARY KEY,
            device_id TEXT NOT NULL UNIQUE,
            model TEXT NOT NULL,
            firmware_version TEXT NOT NULL,
            software_version TEXT NOT NULL,
            online INTEGER NOT NULL,
            household INTEGER NOT NULL,
            admin_bound INTEGER NOT NULL,
            hardware_version TEXT NOT NULL
        )""",
    "ota_releases": """
        CREATE TABLE ota_releases (
            product TEXT NOT NULL,
            version TEXT NOT NULL,
            pushed INTEGER NOT NULL DEFAULT 0,
            pushed_at REAL,
            PRIMARY KEY (product, version)
        )""",
    "chat_messages": """
        CREATE TABLE chat_messages (
            message_id INTEGER PRIMARY KEY,
            received_at REAL NOT NULL,
            body TEXT NOT NULL
        )""",
    "robot_messages": """
        CREATE TABLE robot_messages (
            message_id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            received_at REAL NOT NULL,
            body TEXT NOT NULL
        )""",
    "writes": """
        CREATE TABLE writes (
            write_id INTEGER PRIMARY KEY,
            system TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            body TEXT,
            at REAL NOT NULL
        )""",
    "faults": """
        CREATE TABLE faults (
            fault_id INTEGER PRIMARY KEY,
            spec TEXT NOT NULL,
            matched INTEGER NOT NULL DEFAULT 0,
            applied INTEGER NOT NULL DEFAULT 0
        )""",
    "settings": """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
}


def resolve_db_path(db_path: str | None = None) -> str:
    """Choose the state file: the argument, else ``VH_REHEARSAL_DB``, else ``$AIRFLOW_HOME``, else the cwd."""
    if db_path:
        return db_path
    from_env = os.environ.get(DB_ENV_VAR)
    if from_env:
        return from_env
    airflow_home = os.environ.get("AIRFLOW_HOME")
    if airflow_home:
        return str(Path(airflow_home) / DB_FILE_NAME)
    return str(Path.cwd() / DB_FILE_NAME)


def _rebuild(conn: sqlite3.Connection) -> None:
    """Drop and recreate every table, then seed the initial state; the caller holds the write lock."""
    for table in _TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for ddl in _TABLES.values():
        conn.execute(ddl)
    seed.seed_initial_state(conn, clock.now())
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


class RehearsalStore:
    """Connections and transactions on one SQLite state file. The store keeps only the path, no state.

    :param db_path: path of the SQLite file. The file and its schema are created on first use.
    """

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path

    def _connect(self) -> sqlite3.Connection:
        try:
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise RehearsalStateError(
                f"cannot open the rehearsal state file {self.db_path!r}: {error}; "
                f"set {DB_ENV_VAR} to a writable path"
            ) from error
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _ensure_initialized(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return

        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another worker may have seeded the file while this one waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                _rebuild(conn)
                log.info("rehearsal state created path=%s schema_version=%s", self.db_path, SCHEMA_VERSION)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """Yield a connection inside one transaction, committed on success and rolled back on error.

        :param write: take the write lock at the start (``BEGIN IMMEDIATE``) instead of on the
            first write, so a writer waits for the busy timeout instead of failing on a lock upgrade.
        """
        conn = self._connect()
        try:
            self._ensure_initialized(conn)
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def reset(self) -> None:
        """Drop every table and reseed the initial state, clearing faults, writes and messages."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _rebuild(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
        log.info("rehearsal state reset path=%s", self.db_path)


def read_settings(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return the control settings (``job_duration_seconds``, ``failing_services``)."""
    rows = conn.execute("SELECT key, value FROM settings").fetchall()
    return {row["key"]: json.loads(row["value"]) for row in rows}


def write_settings(conn: sqlite3.Connection, changes: dict[str, Any]) -> None:
    """Store the given control settings; the caller holds the write lock."""
    for key, value in changes.items():
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
