# Local development without containers. See docs/LAYOUT-CONTRACT.md and deploy/launcher.py.
PY := .venv/bin/python

.PHONY: setup up down status test bench lint logs

setup:            ## .venv with the platform (editable) and the test tools
	bash scripts/setup.sh

up: setup         ## PostgreSQL, RabbitMQ, S3, all six processes, demo school; then detach
	bash scripts/servers.sh ensure-postgres ensure-rabbitmq
	$(PY) -m deploy.launcher up

down:             ## stop what `make up` started
	$(PY) -m deploy.launcher down

status:
	$(PY) -m deploy.launcher status

test: setup       ## make test ARGS="-k upload"
	bash scripts/test.sh $(ARGS)

bench: setup      ## make bench ARGS="imports" for some modules only
	bash scripts/servers.sh ensure-postgres ensure-rabbitmq ensure-vhost portfolio_test
	$(PY) -m bench $(ARGS)

lint:
	@if [ -x .venv/bin/ruff ]; then .venv/bin/ruff check .; \
	else echo "lint: ruff is not installed in .venv (.venv/bin/pip install ruff): skipped"; fi

logs:             ## follow the launcher's process logs
	tail -n 30 -F var/run/log/*.log
