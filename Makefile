# The two commands: `make run` and `make test`. Both bootstrap everything they need.
PYTHON ?= python3
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
# The machine's PostgreSQL, used as a second target for the database tests when reachable.
SYSTEM_PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint browser nginx promtool seed-app clean podman stack stack-down test-stack

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==0.13.8

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra dev
	touch $@

run: .venv/.synced
	.venv/bin/vividly-notify run

lint: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/mypy --strict deploy/podman/stack.py

# Browser tests drive Debian's chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "== installing Debian's chromium for the browser tests"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }

# tests/deploy checks deploy/nginx.conf with Debian's `nginx -t`.
nginx:
	@PATH="$$PATH:/usr/sbin" command -v nginx >/dev/null 2>&1 || { \
		echo "== installing Debian's nginx for the proxy config test"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null; }

# tests/deploy checks deploy/prometheus/ with `promtool check rules` and `promtool test rules`
# (Debian's prometheus package; only its promtool is used).
promtool:
	@PATH="$$PATH:/usr/sbin" command -v promtool >/dev/null 2>&1 || { \
		echo "== installing Debian's prometheus for promtool (alert rules test)"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }

# The container stack (README "Operations", deploy/podman/): Debian's podman, runc (crun refuses
# this machine's hybrid cgroups), netavark and aardvark-dns (a fixed address outside the
# network's ip_range, container names in DNS), iptables (netavark's firewall: without it every
# container start fails with "netavark: No such file or directory"; Debian's netavark does not
# depend on it) and mmdebstrap (base images from Debian's packages). podman-compose is not used
# (deploy/podman/stack.py says why).
PODMAN_PACKAGES := podman runc netavark aardvark-dns iptables mmdebstrap
podman:
	@command -v podman >/dev/null && command -v runc >/dev/null \
		&& command -v mmdebstrap >/dev/null && test -x /usr/lib/podman/netavark \
		&& test -x /usr/lib/podman/aardvark-dns && command -v iptables >/dev/null || { \
		echo "== installing Debian's podman, runc, netavark, aardvark-dns, iptables and mmdebstrap"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			$(PODMAN_PACKAGES) >/dev/null; }

# `make stack`: docker-compose.yml (postgres, migrate, 3 api replicas, worker, nginx) on
# http://127.0.0.1:8000 under this machine's podman, built from the Dockerfile on base images
# made from Debian's packages (kept between runs); `make stack-down` removes it (README
# "Operations", deploy/podman/).
export CONTAINERS_CONF := $(CURDIR)/deploy/podman/containers.conf
stack: podman .venv/.synced
	deploy/podman/base-images.sh
	.venv/bin/python deploy/podman/stack.py up

stack-down: .venv/.synced
	@command -v podman >/dev/null || { echo "== no podman: no stack to remove"; exit 0; }; \
		.venv/bin/python deploy/podman/stack.py down

# tests/stack against a stack of its own: up, the tests, down (whatever they gave). Where podman
# cannot run containers the tests are skipped and say why.
test-stack: podman .venv/.synced
	@if .venv/bin/python deploy/podman/stack.py check; then \
		$(MAKE) --no-print-directory stack || { $(MAKE) --no-print-directory stack-down; exit 1; }; \
		.venv/bin/pytest -m stack tests/stack; status=$$?; \
		$(MAKE) --no-print-directory stack-down; exit $$status; \
	else .venv/bin/pytest -m stack tests/stack; fi

# The customer's React NotificationCenter (../shared/seed-frontend) built against clients/js for
# tests/web/test_react_seed.py; npm packages from the lockfile, reinstalled when it changes.
clients/js/node_modules/.installed: clients/js/package.json clients/js/package-lock.json
	cd clients/js && npm ci --no-audit --no-fund
	touch $@

# Then `tsc` checks clients/js's declarations (strict, no skipLibCheck) and the hook's contract.
seed-app: clients/js/node_modules/.installed
	node clients/js/build-seed.mjs
	node clients/js/check-types.mjs

# The second pass is what can differ between Postgres versions: the migrations and their SQL
# (triggers, functions, NOTIFY), query plans, the listener, the worker's claims, and the
# read-state and stream paths they drive. All of it runs on the embedded 16 first.
# Per-user channel mode only (TEST_CHANNEL_MODES), except the listener's tests, which keep both:
# shard mode differs on the server only in the listener's LISTENs and the mode switch; the rest
# of it (test_stream.py's shard pass) is our own fan-out in Python, the same on any version, and
# ran in both modes on the 16 (tests/support/channel_modes.py).
PG_VERSION_TESTS := tests/migrations tests/live/test_listener.py tests/http/test_stream.py \
	tests/notifications/test_history_plan.py tests/notifications/test_api.py \
	tests/notifications/test_deliveries.py tests/notifications/test_analytics.py \
	tests/notifications/test_lock_order.py tests/ops/test_retention.py \
	tests/requests/test_claim_plan.py tests/requests/test_fairness.py \
	tests/requests/test_pipeline.py tests/requests/test_runner.py \
	tests/channels/push/test_dispatch.py tests/channels/push/test_dispatch_failures.py \
	tests/channels/email/test_outbox.py tests/notifications/test_snooze_waker.py \
	tests/notifications/test_copy_sql.py

test: lint browser nginx promtool seed-app
	.venv/bin/pytest
	@if .venv/bin/python -m tests.support.reachable "$(SYSTEM_PG_URL)"; then \
		echo "== the version-sensitive database tests again on the system PostgreSQL ($(SYSTEM_PG_URL))"; \
		TEST_DATABASE_URL="$(SYSTEM_PG_URL)" TEST_CHANNEL_MODES=per-user \
			.venv/bin/pytest -m "db and not browser" $(PG_VERSION_TESTS); \
	else echo "== system PostgreSQL not reachable at $(SYSTEM_PG_URL): embedded only"; fi
	@echo "== the container stack: build, start, tests/stack through the proxy, remove"
	$(MAKE) --no-print-directory test-stack

clean:
	rm -rf .venv .tools clients/js/node_modules tests/web/seed_app/dist
