# pgha: build the static modules, the lab, and run every test.
SHELL := /bin/bash
TARGET := x86_64-unknown-linux-gnu
RELEASE_DIR := target/$(TARGET)/release
MODULE_DIR := collection/plugins/modules
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The fence (crates/fence), which pgha.cluster.fence installs on the nodes.
FENCE_BIN := collection/roles/fence/files/pgha-fence
# Module binaries are the [[bin]] targets of crates/modules.
MODULES := $(basename $(notdir $(wildcard crates/modules/src/bin/*.rs)))

.PHONY: all setup venv modules collection test test-unit test-integration test-lab test-replication demo clean

all: modules

setup:
	scripts/setup-host.sh

venv:
	scripts/venv.sh

## Static module binaries into the collection.
modules:
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target $(TARGET) -p pgha-modules -p pgha-fence
	@mkdir -p $(MODULE_DIR) $(dir $(FENCE_BIN))
	@for m in $(MODULES); do install -m 0755 $(RELEASE_DIR)/$$m $(MODULE_DIR)/$$m; done
	install -m 0755 $(RELEASE_DIR)/pgha-fence $(FENCE_BIN)
	python3 tests/integration/collection_meta.py --write
	@echo "built $(words $(MODULES)) modules into $(MODULE_DIR)"

## The Galaxy tarball (binaries keep their exec bit).
collection: modules
	cd collection && ansible-galaxy collection build --force --output-path ../build

## Every test: Rust unit/property tests, lint, integration tests through Ansible, Molecule.
test: setup venv modules
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings
	cargo test --locked --workspace
	$(MAKE) test-integration
	$(MAKE) test-lab

## The lab: role specs equal their defaults, lint (production profile), the Molecule scenarios:
## pgpool (site.yml with Pgpool-II, watchdog and VIP, then the failover drills) and repmgr
## (site.yml with repmgr, switchover and failover drills). `make test-replication` runs the
## plain streaming-replication scenario, which the pgpool scenario's checks include.
test-lab:
	molecule/image/build.sh >/dev/null
	$(VENV)/bin/python molecule/replication/check_role_specs.py
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/playbooks/collections ansible-lint
	$(VENV)/bin/molecule -c molecule/shared/base.yml test -s pgpool
	$(VENV)/bin/molecule test -s repmgr

test-replication:
	molecule/image/build.sh >/dev/null
	$(VENV)/bin/molecule -c molecule/shared/base.yml test -s replication

test-unit:
	cargo test --workspace

test-integration:
	$(VENV)/bin/pytest -ra tests

clean:
	cargo clean
	rm -rf build $(addprefix $(MODULE_DIR)/,$(MODULES)) $(FENCE_BIN)

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
