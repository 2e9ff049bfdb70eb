# pgha: build the static modules, the lab, and run every test.
SHELL := /bin/bash
TARGET := x86_64-unknown-linux-gnu
RELEASE_DIR := target/$(TARGET)/release
MODULE_DIR := collection/plugins/modules
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Module binaries are the [[bin]] targets of crates/modules.
MODULES := $(basename $(notdir $(wildcard crates/modules/src/bin/*.rs)))

.PHONY: all setup venv modules collection test test-unit test-integration lint demo destroy bench clean

all: modules

setup:
	scripts/setup-host.sh

venv:
	scripts/venv.sh

## Static module binaries into the collection.
modules:
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target $(TARGET) -p pgha-modules
	@mkdir -p $(MODULE_DIR)
	@for m in $(MODULES); do install -m 0755 $(RELEASE_DIR)/$$m $(MODULE_DIR)/$$m; done
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

test-unit:
	cargo test --workspace

test-integration:
	$(VENV)/bin/pytest -ra tests

clean:
	cargo clean
	rm -rf build $(addprefix $(MODULE_DIR)/,$(MODULES))
