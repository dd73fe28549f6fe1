"""Constants shared by the notification tests."""

from pathlib import Path

TOKEN = "robot-token-abc123"
DINGTALK_SECRET = "SECdingtalk-secret-xyz"
FEISHU_SECRET = "feishu-secret-xyz"
EXAMPLE_CONTACTS = Path(__file__).resolve().parents[3] / "config" / "contacts.example.yaml"
