"""Contract test of playbooks/provision_proxmox.yml (role pgha.cluster.proxmox_vm) against a
local stand-in of the Proxmox VE API (proxmox_standin.py): which endpoints are called, in which
order, with which payload, and that a second run clones nothing and changes nothing.

What this does not show: that a real Proxmox VE accepts these calls (no Proxmox server exists
here). The stand-in answers in the documented shapes and the calls are those of
community.proxmox itself, so what is checked is our use of the modules: parameters, order,
idempotence, inventory hand-over to site.yml, and that the token secret stays out of the output.
"""

import json
import os
import subprocess
from urllib.parse import unquote

import pytest
import yaml

from conftest import ROOT, VENV_BIN
from proxmox_standin import StandIn

PLAYBOOK = ROOT / "playbooks/provision_proxmox.yml"
INVENTORY = ROOT / "playbooks/inventories/proxmox"
ROLE = ROOT / "collection/roles/proxmox_vm"
KEYS = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPghaTestKey1+/= admin@controller",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQTest2/+= backup@controller"]
SECRET = "s3cret"


@pytest.fixture(scope="module")
def ansible_env(tmp_path_factory):
    """Like conftest's ansible_env, without needing the module binaries (this role uses none)."""
    base = tmp_path_factory.mktemp("proxmox")
    ns = base / "collections/ansible_collections/pgha"
    ns.mkdir(parents=True)
    (ns / "cluster").symlink_to(ROOT / "collection")
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(base / "collections"), ANSIBLE_HOME=str(base / "home"),
                ANSIBLE_LOCAL_TEMP=str(base / "home/tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                ANSIBLE_DEPRECATION_WARNINGS="False", ANSIBLE_PIPELINING="1", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")


@pytest.fixture
def standin():
    s = StandIn()
    yield s
    s.close()


def seed_vms(standin):
    """The role's default VM list (seed 000), with ssh probed on the stand-in's banner port."""
    vms = yaml.safe_load((ROLE / "defaults/main.yml").read_text())["proxmox_vm_list"]
    return [dict(vm, ssh_host="127.0.0.1", ssh_port=standin.ssh_port) for vm in vms]


def run(ansible_env, standin, tmp_path, *extra_args, **overrides):
    extra = dict(proxmox_vm_api_host="127.0.0.1", proxmox_vm_api_port=standin.port,
                 proxmox_vm_api_token_secret=SECRET, proxmox_vm_validate_certs=False,
                 proxmox_vm_ssh_public_keys=KEYS, proxmox_vm_list=seed_vms(standin),
                 proxmox_vm_ssh_timeout=10, proxmox_vm_wait_for_cloud_init=False)
    extra.update(overrides)
    cmd = [str(VENV_BIN / "ansible-playbook"), "-v", "-i", str(INVENTORY), str(PLAYBOOK), *map(str, extra_args),
           "-e", json.dumps(extra)]
    r = subprocess.run(cmd, env=ansible_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    return r


def writes(calls):
    return [c for c in calls if c["method"] != "GET"]


def recap_changed(stdout, host="localhost"):
    line = next(line for line in stdout.splitlines() if line.startswith(host) and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


def test_provision_then_rerun(ansible_env, standin, tmp_path):
    after = tmp_path / "after.yml"
    out = tmp_path / "inventory.json"
    after.write_text(yaml.safe_dump([{
        "name": "What site.yml would see", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Record groups and host vars", "ansible.builtin.copy": {"dest": str(out), "mode": "0644", "content": (
            "{{ {'groups': {'pgha': groups['pgha'], 'primary': groups['primary'], 'standby': groups['standby']},"
            " 'hosts': dict(groups['pgha'] | zip(groups['pgha'] | map('extract', hostvars)"
            " | map('dict2items') | map('selectattr', 'key', 'in', ['ansible_host', 'ansible_port', 'ansible_user',"
            " 'pgha_manager', 'pgha_vip']) | map('items2dict')))} | to_json }}")}}],
    }]))
    r = run(ansible_env, standin, tmp_path, after)
    calls = standin.calls()
    assert not [c for c in calls if c.get("unknown")], "endpoints the stand-in does not know"
    assert all(c["status"] == 200 for c in calls), [c for c in calls if c["status"] != 200]
    assert SECRET not in r.stdout + r.stderr

    # Per VM, in order: clone from the template, settings, disk, start; one VM after the other.
    w = writes(calls)
    expected = []
    for name, vmid, addr in [("postgres1", 181, "10.0.0.181"), ("postgres2", 182, "10.0.0.182"), ("postgres3", 183, "10.0.0.183")]:
        expected += [("POST", "/api2/json/nodes/pve/qemu/9000/clone"), ("PUT", f"/api2/json/nodes/pve/qemu/{vmid}/config"),
                     ("PUT", f"/api2/json/nodes/pve/qemu/{vmid}/resize"), ("POST", f"/api2/json/nodes/pve/qemu/{vmid}/status/start")]
    assert [(c["method"], c["path"]) for c in w] == expected

    for i, (name, vmid, addr) in enumerate([("postgres1", 181, "10.0.0.181"), ("postgres2", 182, "10.0.0.182"),
                                            ("postgres3", 183, "10.0.0.183")]):
        clone, config, resize, _start = w[4 * i: 4 * i + 4]
        assert clone["form"] == {"newid": str(vmid), "name": name, "full": "1", "storage": "local-lvm"}
        form = config["form"]
        assert {k: form[k] for k in ("name", "cores", "memory", "ciuser", "ipconfig0", "onboot")} == {
            "name": name, "cores": "2", "memory": "4096", "ciuser": "admin",
            "ipconfig0": f"ip={addr}/24,gw=10.0.0.1", "onboot": "1"}
        # Proxmox wants sshkeys URL-encoded inside the form (the module does it).
        assert unquote(form["sshkeys"]) == "\n".join(KEYS)
        assert "%2F" in form["sshkeys"] and "\n" not in form["sshkeys"]
        assert resize["form"] == {"disk": "scsi0", "size": "32G"}
        vm = standin.state.vms[vmid]
        assert vm["status"] == "running" and vm["config"]["scsi0"] == f"local-lvm:vm-{vmid}-disk-0,size=32G"
    assert standin.state.vms[9000]["config"]["scsi0"].endswith("size=2G"), "the template is left alone"
    # Before any clone the module asks the API version and the node list; task status is polled.
    paths = [c["path"] for c in calls]
    assert paths[0] == "/api2/json/version" and "/api2/json/nodes" in paths
    assert any("/tasks/UPID:pve:" in p and p.endswith("/status") for p in paths)

    # The hand-over to site.yml: groups, addresses and the inventory's group_vars/pgha.
    seen = json.loads(out.read_text())
    assert seen["groups"] == {"pgha": ["postgres1", "postgres2", "postgres3"], "primary": ["postgres1"],
                              "standby": ["postgres2", "postgres3"]}
    assert seen["hosts"]["postgres1"] == {"ansible_host": "127.0.0.1", "ansible_port": standin.ssh_port,
                                          "ansible_user": "admin", "pgha_manager": "pgpool", "pgha_vip": "10.0.0.180"}

    # Second run: everything exists and matches, so only reads.
    before = len(calls)
    r2 = run(ansible_env, standin, tmp_path)
    again = standin.calls()[before:]
    assert writes(again) == [], writes(again)
    assert recap_changed(r2.stdout) == 0, r2.stdout[-3000:]

    # Drift: someone changed a VM's cores by hand; the next run writes its settings again
    # (run for that VM alone, to keep the test short).
    standin.state.vms[182]["config"]["cores"] = 1
    before = len(standin.calls())
    r3 = run(ansible_env, standin, tmp_path, proxmox_vm_list=[seed_vms(standin)[1]])
    w3 = writes(standin.calls()[before:])
    assert [(c["method"], c["path"]) for c in w3] == [("PUT", "/api2/json/nodes/pve/qemu/182/config")]
    assert w3[0]["form"]["cores"] == "2"
    assert recap_changed(r3.stdout) == 1


def test_check_mode_changes_nothing(ansible_env, standin, tmp_path):
    """--check: community.proxmox's modules do not support check mode and are skipped; the role
    only reads, and waits for no ssh."""
    run(ansible_env, standin, tmp_path, "--check", proxmox_vm_ssh_timeout=1,
        proxmox_vm_list=[dict(seed_vms(standin)[0], ssh_port=1)])
    assert not writes(standin.calls()) and sorted(standin.state.vms) == [9000]


def test_wrong_token_fails_without_showing_it(ansible_env, standin, tmp_path):
    standin.state.auth = "PVEAPIToken=ansible@pve!pgha=other"
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK), "-e", json.dumps(dict(
        proxmox_vm_api_host="127.0.0.1", proxmox_vm_api_port=standin.port, proxmox_vm_api_token_secret=SECRET,
        proxmox_vm_validate_certs=False, proxmox_vm_ssh_public_keys=KEYS))]
    r = subprocess.run(cmd, env=ansible_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert SECRET not in r.stdout + r.stderr
    assert not writes(standin.calls())


def test_argument_spec_names_missing_settings(ansible_env, tmp_path):
    """Without the API host, token secret and keys the role stops before any API call."""
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(PLAYBOOK)]
    r = subprocess.run(cmd, env=ansible_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    for name in ("proxmox_vm_api_host", "proxmox_vm_api_token_secret", "proxmox_vm_ssh_public_keys"):
        assert name in r.stdout + r.stderr


def test_role_defaults_are_the_seed_topology():
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    assert [(vm["name"], vm["address"], vm["groups"]) for vm in defaults["proxmox_vm_list"]] == [
        ("postgres1", "10.0.0.181", ["pgha", "primary"]), ("postgres2", "10.0.0.182", ["pgha", "standby"]),
        ("postgres3", "10.0.0.183", ["pgha", "standby"])]


def test_syntax_check(ansible_env):
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "--syntax-check", "-i", str(INVENTORY), str(PLAYBOOK)],
                       env=ansible_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
