"""Each role's argument spec validates with the lab's variables, as Ansible validates it before
the role's first task: the spec's defaults and the role's variables are templated then, before
the role's preflight has loaded its OS-family variables or set its facts, so a default that
reads such a fact fails every run of the role. The hosts' own facts are the controller's
(gathered locally); nothing runs on the lab's containers.

    .venv/bin/pytest -q tests/integration/test_role_specs.py
"""

import json
import os
import subprocess

import pytest

from conftest import ROOT, VENV_BIN

ROLES = ROOT / "collection/roles"
# inventory -> the roles site.yml runs with it
INVENTORIES = {
    ROOT / "playbooks/inventories/lab": ["firewall", "postgresql", "replication", "ssh_trust", "pgpool"],
    ROOT / "molecule/repmgr/inventory": ["firewall", "postgresql", "ssh_trust", "repmgr"],
}

PLAYBOOK = """
- name: Validate the roles' argument specs
  hosts: pgha
  gather_facts: true
  gather_subset: [min, network]
  tasks:
    - name: Validate each role's main entry point with its defaults
      ansible.builtin.include_tasks: validate.yml
      loop: "{{ roles }}"
      loop_control:
        loop_var: role
"""
VALIDATE = """
- name: Load the defaults of {{ role }}
  ansible.builtin.include_vars:
    file: "{{ roles_dir }}/{{ role }}/defaults/main.yml"

- name: Validate the arguments of {{ role }}
  ansible.builtin.validate_argument_spec:
    argument_spec: >-
      {{ (lookup('ansible.builtin.file', roles_dir ~ '/' ~ role ~ '/meta/argument_specs.yml')
          | from_yaml).argument_specs.main.options }}
"""


@pytest.mark.parametrize("inventory", sorted(INVENTORIES), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_argument_specs_validate_before_preflight(inventory, tmp_path):
    (tmp_path / "validate.yml").write_text(VALIDATE)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "playbooks/collections"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "home/tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="False",
               PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    extra = {"roles": INVENTORIES[inventory], "roles_dir": str(ROLES), "ansible_connection": "local",
             "ansible_python_interpreter": str(VENV_BIN / "python")}
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(tmp_path / "play.yml"),
                        "-e", json.dumps(extra)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
