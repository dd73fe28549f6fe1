"""Airflow hooks, operators, triggers and rehearsal stand-ins for the virtual-human cutover."""
