"""Read-only step logic the DAG's TaskFlow tasks call: preflight, verification, records, summary."""
