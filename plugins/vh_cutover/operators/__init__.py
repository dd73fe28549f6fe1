"""Operators of the cutover: idempotent changes, deferrable waits and human gates."""
