"""Create the cutover's Airflow users under the FAB auth manager and publish their FAB ids.

Run by ``docker/airflow-init.sh`` after ``airflow db migrate``::

    python docker/init_users.py docker/users.json

Each entry of the users file is ``{"username", "name", "role"}``, where ``role`` is a FAB role
(Admin, Op, User, Viewer). The password of a user comes from the environment variable
``VH_PASSWORD_<USERNAME>`` (username in upper case) and the e-mail address is
``<username>@$VH_USER_EMAIL_DOMAIN``, because FAB requires a unique address for every user.

An existing user is left unchanged, so a password changed in the UI survives a restart.

Under FAB a user's id, as the HITL respondent check compares it, is the numeric primary key of
``ab_user`` as a string. That key depends on the order in which users were created, so this
script stores the mapping ``{username: id}`` in the Airflow Variable ``vh_hitl_user_ids`` for
the DAG to read at run time.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("vh_cutover.init_users")

USER_IDS_VARIABLE = "vh_hitl_user_ids"
FAB_ROLES = frozenset({"Admin", "Op", "User", "Viewer", "Public"})


def password_variable(username: str) -> str:
    """Return the name of the environment variable that contains the password of ``username``."""
    return f"VH_PASSWORD_{username.upper()}"


def load_users(path: Path) -> list[dict[str, str]]:
    """Read and validate the users file.

    :param path: JSON file with a list of ``{"username", "name", "role"}`` objects
    :raises SystemExit: when the file is missing or an entry is invalid
    """
    try:
        users = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"users file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise SystemExit(f"users file {path} is not valid JSON: {error}") from None

    if not isinstance(users, list) or not users:
        raise SystemExit(f"users file {path} must contain a non-empty JSON list")

    for index, user in enumerate(users):
        missing = {"username", "name", "role"} - set(user)
        if missing:
            raise SystemExit(f"users file {path}: entry {index} is missing {sorted(missing)}")
        if user["role"] not in FAB_ROLES:
            raise SystemExit(
                f"users file {path}: user {user['username']!r} has invalid role {user['role']!r}; "
                f"expected one of {sorted(FAB_ROLES)}"
            )
    return users


def create_missing_users(users: list[dict[str, str]], email_domain: str) -> dict[str, str]:
    """Create every user that FAB does not know yet.

    :param users: validated entries of the users file
    :param email_domain: domain of the generated e-mail addresses
    :return: mapping of username to FAB user id (``str(ab_user.id)``) for every listed user
    :raises SystemExit: when a password variable is missing or FAB rejects a user
    """
    # Imported here so that ``--help`` and the file checks work without an Airflow installation.
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    user_ids: dict[str, str] = {}
    with get_application_builder() as appbuilder:
        security_manager = appbuilder.sm

        for user in users:
            username = user["username"]
            existing = security_manager.find_user(username=username)
            if existing is not None:
                log.info("user exists, left unchanged: username=%s id=%s", username, existing.id)
                user_ids[username] = existing.get_id()
                continue

            password = os.environ.get(password_variable(username), "")
            if not password:
                raise SystemExit(
                    f"missing password for user {username!r}: set {password_variable(username)} in .env"
                )
            role = security_manager.find_role(user["role"])
            if role is None:
                raise SystemExit(f"FAB role {user['role']!r} not found; was `airflow db migrate` run?")

            created = security_manager.add_user(
                username=username,
                first_name=user["name"],
                last_name="",
                email=f"{username}@{email_domain}",
                role=role,
                password=password,
            )
            log.info("user created: username=%s id=%s role=%s", username, created.id, user["role"])
            user_ids[username] = created.get_id()

    return user_ids


def publish_user_ids(user_ids: dict[str, str]) -> None:
    """Store the username-to-id mapping in the Airflow Variable ``vh_hitl_user_ids``."""
    from airflow.models import Variable

    Variable.set(
        USER_IDS_VARIABLE,
        user_ids,
        description="FAB user id (ab_user.id as a string) of each cutover user, for HITL assigned_users",
        serialize_json=True,
    )
    log.info("variable set: key=%s users=%d", USER_IDS_VARIABLE, len(user_ids))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(argv) != 2 or argv[1] in {"-h", "--help"}:
        print(__doc__)
        return 0 if len(argv) == 2 else 2

    users = load_users(Path(argv[1]))
    email_domain = os.environ.get("VH_USER_EMAIL_DOMAIN") or "example.invalid"
    user_ids = create_missing_users(users, email_domain)
    publish_user_ids(user_ids)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
