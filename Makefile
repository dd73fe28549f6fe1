# Entry points; each one installs what it needs first (scripts/bootstrap.sh).
.PHONY: run test test-unit bench compose-check

run:            ## rehearsal: Airflow standalone + stand-ins on http://localhost:8080
	scripts/run.sh

test:           ## the whole suite: unit, DAG integrity, deployment, end-to-end, UI
	scripts/test.sh

test-unit:      ## the fast part only (no Airflow server, no browser)
	scripts/test.sh -m "not e2e"

bench:          ## speed and memory report in reports/bench.md
	scripts/bootstrap.sh
	.venv/bin/python bench/run.py

compose-check:  ## validate docker-compose.yaml with Debian's docker-compose
	docker-compose --env-file .env.example config -q
