# pgha: build the static modules, the lab, and run every test.
SHELL := /bin/bash
TARGET := x86_64-unknown-linux-gnu
RELEASE_DIR := target/$(TARGET)/release
# Every module is in one static binary, shipped in the collection as files/pgha (its sha256
# beside it names its cache directory on the targets); plugins/modules/ holds their docs.
MODULE_BIN := collection/files/pgha
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The fence (crates/fence), which pgha.cluster.fence installs on the nodes.
FENCE_BIN := collection/roles/fence/files/pgha-fence

.PHONY: all setup venv modules collection test test-unit test-integration test-default-lab test-lab drills drills-day2 test-replication test-sanity demo clean

all: modules

setup:
	scripts/setup-host.sh

venv:
	scripts/venv.sh

## The static multi-call module binary (pgha <module>) into the collection, and the fence.
modules:
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target $(TARGET) -p pgha-modules -p pgha-fence
	@mkdir -p $(dir $(MODULE_BIN)) $(dir $(FENCE_BIN))
	install -m 0755 $(RELEASE_DIR)/pgha $(MODULE_BIN)
	cd $(dir $(MODULE_BIN)) && sha256sum pgha > pgha.sha256
	install -m 0755 $(RELEASE_DIR)/pgha-fence $(FENCE_BIN)
	python3 scripts/collection_meta.py --write
	@echo "built $$($(MODULE_BIN) --list | wc -l) modules into $(MODULE_BIN)"

## The Galaxy tarball (the binary keeps its exec bit).
collection: modules
	cd collection && ansible-galaxy collection build --force --output-path ../build

## What CI runs (.ci/run), within 30 minutes on a clean 2-core machine: fmt, clippy, the Rust
## unit/property tests, the integration tests through Ansible (pytest, 2 workers), role specs,
## ansible-lint, and the default lab with Molecule (scenario `default`: check mode on new hosts,
## site.yml with Pgpool-II, check mode again, idempotence, verify; no drills).
## Not in it, each with its own target: the drills and the repmgr lab (make test-lab, make
## drills), ansible-test sanity (make test-sanity), streaming replication alone (make test-replication).
test: setup venv modules
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings
	cargo test --locked --workspace
	$(MAKE) test-integration
	$(MAKE) test-default-lab

## The integration tests (tests/: modules through ansible against throwaway servers on free
## loopback ports, the lab image smoke test) on PYTEST_WORKERS xdist workers; ansible-test
## sanity is left to `make test-sanity`.
PYTEST_WORKERS ?= 2
test-integration:
	$(VENV)/bin/pytest -ra -n $(PYTEST_WORKERS) --dist loadfile --durations=15 -m "not sanity" tests

## ansible-test sanity on the built tarball (tests/integration/test_collection_quality.py). On a
## machine that has never run it, ansible-test first builds its virtual environments from PyPI.
test-sanity:
	$(VENV)/bin/pytest -ra -m sanity tests/integration/test_collection_quality.py

## Role specs equal their defaults, lint (production profile), and the default lab (scenario
## `default`, the pgpool lab without the drills).
test-default-lab:
	molecule/image/build.sh >/dev/null
	$(VENV)/bin/python scripts/check_role_specs.py
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/playbooks/collections ansible-lint
	$(VENV)/bin/molecule -c molecule/shared/base.yml test

## The full lab scenarios, drills included: pgpool (site.yml with Pgpool-II, watchdog and VIP,
## check mode before and after, idempotence, verify, then the failover drills and verify again)
## and repmgr (site.yml with repmgr, the same checks, switchover and failover drills).
## `make test-replication` runs the plain streaming-replication scenario, which the pgpool
## scenario's checks include.
test-lab:
	molecule/image/build.sh >/dev/null
	$(VENV)/bin/molecule -c molecule/shared/base.yml test -s pgpool
	$(VENV)/bin/molecule test -s repmgr

## The Pgpool-II drills (molecule/pgpool/side_effect.yml: the seed's failover test, recovery,
## the same asynchronous, a killed watchdog leader, a cut-off primary) and verify, on the lab
## that `make demo` built (it is left running, wherever the drills moved the primary).
drills: venv
	@docker network inspect pgha_lab >/dev/null 2>&1 || { echo "drills: no pgha_lab network (make demo first)"; exit 1; }
	$(LAB_MOLECULE) side_effect -s pgpool
	$(LAB_MOLECULE) verify -s pgpool

## The day-2 drills (issue 13) on the lab that `make demo` built, under the write client:
## site.yml with a restart-required setting (and back), playbooks/rolling_restart.yml, a
## reload-only and a restart-only pgpool.conf change, each password and the pool_passwd key
## rotated (and back), playbooks/upgrade.yml with nothing newer and with the packages rebuilt
## under a higher version. Figures to $(PGHA_DRILL_RESULTS)/day2-pgpool.json; exit 1 when a
## goal is missed. About 60 min on 2 cores (each operation runs site.yml again afterwards).
PGHA_DRILL_RESULTS ?= /tmp/pgha-drills
DAY2_DRILLS ?= restart-setting rolling-restart pgpool-reload pgpool-restart rotate-postgres rotate-repl rotate-pgpool rotate-pgpool_key upgrade
drills-day2: venv
	@docker network inspect pgha_lab >/dev/null 2>&1 || { echo "drills-day2: no pgha_lab network (make demo first)"; exit 1; }
	$(VENV)/bin/python molecule/pgpool/drills.py $(DAY2_DRILLS) --out $(PGHA_DRILL_RESULTS)/day2-pgpool.json

test-replication:
	molecule/image/build.sh >/dev/null
	$(VENV)/bin/molecule -c molecule/shared/base.yml test -s replication

test-unit:
	cargo test --workspace

clean:
	cargo clean
	rm -rf build $(MODULE_BIN) $(MODULE_BIN).sha256 $(FENCE_BIN)

## The three-node lab: modules, the lab image, containers postgres1..3 on network pgha_lab
## (10.0.0.181-183, VIP 10.0.0.180), playbooks/site.yml with the lab inventory (Pgpool-II with
## watchdog and VIP), then the cluster state. `make demo-destroy` removes the containers and
## the network. The containers are those of the Molecule scenario `pgpool`
## (molecule/shared/base.yml), so `make test` replaces them.
LAB_MOLECULE := $(VENV)/bin/molecule -c molecule/shared/base.yml
LAB_HOSTS := postgres1 postgres2 postgres3
LAB_PSQL := /usr/lib/postgresql/15/bin/psql -X

.PHONY: demo-destroy lab-status
demo: setup venv modules
	molecule/image/build.sh >/dev/null
	$(LAB_MOLECULE) create -s pgpool
	cd playbooks && ANSIBLE_CONFIG=ansible.cfg ansible-playbook -i inventories/lab site.yml
	@$(MAKE) --no-print-directory lab-status

demo-destroy: venv
	$(LAB_MOLECULE) destroy -s pgpool

## Who is primary, and the primary's replication rows and slots (read-only; lab containers only).
lab-status:
	@docker network inspect pgha_lab >/dev/null 2>&1 || { echo "lab-status: no pgha_lab network (make demo)"; exit 1; }
	@primary=""; for h in $(LAB_HOSTS); do \
	  r=$$(docker exec -u postgres $$h $(LAB_PSQL) -Atqc 'select pg_is_in_recovery()' 2>/dev/null); \
	  case "$$r" in f) echo "$$h: primary"; primary="$$primary $$h";; t) echo "$$h: standby";; *) echo "$$h: down";; esac; \
	done; \
	for p in $$primary; do \
	  echo; echo "pg_stat_replication on $$p:"; \
	  docker exec -u postgres $$p $(LAB_PSQL) -c 'select application_name, client_addr, state, sync_state, sent_lsn, replay_lsn, replay_lag from pg_stat_replication order by 1'; \
	  echo "pg_replication_slots on $$p:"; \
	  docker exec -u postgres $$p $(LAB_PSQL) -c 'select slot_name, slot_type, active, restart_lsn from pg_replication_slots order by 1'; \
	  echo "pg_stat_archiver on $$p:"; \
	  docker exec -u postgres $$p $(LAB_PSQL) -c 'select archived_count, last_archived_wal, failed_count from pg_stat_archiver'; \
	done; \
	echo; echo "SHOW pool_nodes through the VIP (10.0.0.180:9999):"; \
	for i in $$(seq 30); do \
	  PGPASSWORD=lab-pgpool-b84e PGCONNECT_TIMEOUT=2 $(LAB_PSQL) -h 10.0.0.180 -p 9999 -U pgpool -d postgres \
	    -c 'show pool_nodes' 2>/dev/null | cut -c1-160 && break; sleep 2; \
	done; \
	n=$$(echo $$primary | wc -w); if [ "$$n" -ne 1 ]; then echo "lab-status: $$n primaries"; exit 1; fi
