"""Write (or show) the simple auth manager's passwords for the rehearsal's users.

Airflow generates a password only for users missing from this file, so seeding it first gives
every person of the plan a password that the run command can print next to their Chinese name.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from vh_cutover.plan import load_plan  # noqa: E402


def main(argv: list[str]) -> int:
    show = "--show" in argv
    path = Path([arg for arg in argv if arg != "--show"][0])
    users = [entry.split(":")[0] for entry in os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")]
    passwords = json.loads(path.read_text()) if path.exists() else {}

    if show:
        people = load_plan().people
        for user in users:
            print(f"  {user:<14} {passwords.get(user, '?'):<20} {people.get(user, '管理员')}")
        return 0

    missing = [user for user in users if user not in passwords]
    if missing:
        passwords.update({user: secrets.token_urlsafe(9) for user in missing})
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
