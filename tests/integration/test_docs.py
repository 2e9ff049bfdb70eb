"""Every module binary has docs whose options are exactly the parameters the binary accepts,
and ansible-doc renders them from the collection."""

import json
import subprocess

import pytest
import yaml

from conftest import ROOT, VENV_BIN

MODULE_DIR = ROOT / "collection/plugins/modules"
BINARIES = sorted(p.stem for p in (ROOT / "crates/modules/src/bin").glob("*.rs"))


@pytest.mark.parametrize("name", BINARIES)
def test_docs_match_binary(name):
    doc_file = MODULE_DIR / f"{name}.yml"
    assert doc_file.exists(), f"{name} has no docs file"
    docs = yaml.safe_load(doc_file.read_text())
    documentation = docs["DOCUMENTATION"]
    if isinstance(documentation, str):
        documentation = yaml.safe_load(documentation)
    assert documentation["module"] == name
    options = documentation.get("options", {})
    described = json.loads(subprocess.run([str(MODULE_DIR / name), "--describe"], capture_output=True, text=True, check=True).stdout)
    assert sorted(options) == sorted(p["name"] for p in described), f"{name}: docs and binary disagree"
    for p in described:
        doc_aliases = sorted(options[p["name"]].get("aliases", []))
        assert doc_aliases == sorted(p["aliases"]), f"{name}.{p['name']} aliases"
        if p["no_log"]:
            assert options[p["name"]].get("no_log") is True, f"{name}.{p['name']} must be documented no_log"
    for key in ("EXAMPLES", "RETURN"):
        assert docs.get(key), f"{name} lacks {key}"
    assert f"pgha.cluster.{name}" in str(docs["EXAMPLES"]), "EXAMPLES use the FQCN"


@pytest.mark.parametrize("name", BINARIES)
def test_ansible_doc_renders(name, ansible_env):
    r = subprocess.run([str(VENV_BIN / "ansible-doc"), f"pgha.cluster.{name}"], env=ansible_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert name in r.stdout and "OPTIONS" in r.stdout


@pytest.mark.parametrize("name", BINARIES)
def test_bad_input_is_a_json_failure(name, tmp_path):
    """Unknown parameters, a missing args file and non-JSON args all fail with JSON, exit 1."""
    binary = str(MODULE_DIR / name)
    args = tmp_path / "args"
    args.write_text(json.dumps({"no_such_option": 1, "_ansible_check_mode": False, "_ansible_whatever": 1}))
    r = subprocess.run([binary, str(args)], capture_output=True, text=True)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["failed"] is True
    assert f"Unsupported parameters for ({name}) module: no_such_option" in out["msg"]
    assert "panicked" not in r.stdout + r.stderr
    for bad in ("not json", "[1, 2]"):
        args.write_text(bad)
        r = subprocess.run([binary, str(args)], capture_output=True, text=True)
        assert r.returncode == 1 and json.loads(r.stdout)["failed"] is True
    r = subprocess.run([binary, str(tmp_path / "missing")], capture_output=True, text=True)
    assert r.returncode == 1 and "cannot read the args file" in json.loads(r.stdout)["msg"]
