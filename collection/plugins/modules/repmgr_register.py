# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.repmgr_register: its code is the collection's action plugin and binary
(plugins/action/repmgr_register.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: repmgr_register
short_description: Register or unregister this node in repmgr (primary, standby or witness)
version_added: "0.1.0"
description:
  - Runs the real C(repmgr primary register), C(repmgr standby register) or
    C(repmgr witness register) as O(os_user) with C(-f) O(config_file), or the matching
    C(unregister) with O(state=absent).
  - Idempotent - the node's record in C(repmgr.nodes) is read first, where repmgr keeps it
    (on the primary - a standby reads its own copy, then the primary named there; a witness
    reads the primary at O(primary_host)), over the PostgreSQL wire protocol with the
    C(conninfo) of repmgr.conf. Nothing runs when the record has the asked type, upstream
    (O(upstream_node_id), else the primary), C(active=true), and repmgr.conf's C(node_name),
    C(conninfo), C(priority) and C(location).
  - A record that differs is replaced only with O(force) (C(register --force)); without it
    the module fails and lists the differences.
  - The local server must run - a primary or witness out of recovery, a standby in recovery
    (clone it with M(pgha.cluster.repmgr_standby_clone) and start it first).
  - A static binary; the target needs neither Python nor libpq (it needs repmgr).
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details:
      - Runs the same command with C(--dry-run) and returns its findings in RV(dry_run); fails
        when the dry run fails.
      - repmgr 5.3 has no dry run for C(standby unregister), so check mode only reports it.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: full
    details: Shows the node's record before and after.
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  role:
    description: What this node is registered as.
    type: str
    required: true
    choices: [primary, standby, witness]
  state:
    description: C(present) registers the node; C(absent) unregisters it (by the type of its record).
    type: str
    choices: [present, absent]
    default: present
  upstream_node_id:
    description: For O(role=standby), the node it streams from (C(--upstream-node-id)); default the primary.
    type: int
  force:
    description: Register again with C(--force) when the existing record differs.
    type: bool
    default: false
  wait_sync:
    description: For O(role=standby), seconds to wait for the new record to reach this standby (C(--wait-sync)); C(0) does not wait.
    type: int
    default: 30
  primary_host:
    description: For O(role=witness), the primary's host (C(witness register -h)). Required then.
    type: str
  primary_port:
    description: For O(role=witness), the primary's port.
    type: int
    default: 5432
  primary_user:
    description: For O(role=witness), the user to connect to the primary as.
    type: str
    default: repmgr
  primary_dbname:
    description: For O(role=witness), the repmgr database on the primary.
    type: str
    default: repmgr
  os_user:
    description:
      - OS user that runs C(repmgr) (the owner of the data directory). When the module runs as
        root it switches to this user for every command and reads this user's C(~/.pgpass) for
        its own connections; run as that user, it simply runs as itself.
    type: str
    default: postgres
  config_file:
    description: This node's repmgr.conf (passed to every command as C(-f)). Its C(node_id), C(node_name) and C(conninfo) are read.
    type: path
    default: /etc/repmgr.conf
  repmgr_bin:
    description:
      - The C(repmgr) program.
      - When omitted, C(/usr/bin/repmgr), then the newest C(/usr/lib/postgresql/<v>/bin/repmgr) or C(/usr/pgsql-<v>/bin/repmgr).
    type: path
notes:
  - The repmgr extension is created by C(primary register), so the repmgr user must be a superuser then (seed - C(createuser --superuser repmgr)).
seealso:
  - name: repmgr primary register
    description: The command the module runs on a primary.
    link: https://www.repmgr.org/docs/5.3/repmgr-primary-register.html
  - name: repmgr standby register
    description: The command the module runs on a standby.
    link: https://www.repmgr.org/docs/5.3/repmgr-standby-register.html
  - module: pgha.cluster.repmgr_standby_clone
  - module: pgha.cluster.repmgr_info
'''

EXAMPLES = r'''
- name: Register the primary (seed - repmgr primary register)
  pgha.cluster.repmgr_register:
    role: primary
  become: true
  become_user: postgres
  when: inventory_hostname == 'postgres1'

- name: Register the standbys once they run
  pgha.cluster.repmgr_register:
    role: standby
    config_file: /etc/repmgr.conf
  become: true
  become_user: postgres
  when: inventory_hostname != 'postgres1'

- name: Re-register a standby under another upstream
  pgha.cluster.repmgr_register:
    role: standby
    upstream_node_id: 2
    force: true
'''

RETURN = r'''
node_id:
  description: This node's C(node_id) from repmgr.conf.
  returned: success
  type: int
  sample: 2
node_name:
  description: This node's C(node_name).
  returned: success
  type: str
  sample: postgres2
role:
  description: The asked role.
  returned: success
  type: str
  sample: standby
record:
  description: The node's C(repmgr.nodes) row after the run (before it in check mode; null when not registered), conninfo password masked.
  returned: success
  type: dict
  sample: {node_id: 2, upstream_node_id: 1, active: true, node_name: postgres2, type: standby, location: default,
           priority: 100, conninfo: "host=10.0.0.182 user=repmgr dbname=repmgr", repluser: repmgr, slot_name: null,
           config_file: /etc/repmgr.conf}
primary_node_id:
  description: The active primary's node_id in C(repmgr.nodes) (null when none).
  returned: success
  type: int
  sample: 1
record_source:
  description: Where the record was read (C(this node), C(the primary (node 1)), ...).
  returned: success
  type: str
differences:
  description: How the existing record differs from the asked one (empty for a new registration).
  returned: when a registration ran or would run, or on failure for lack of O(force)
  type: list
  elements: str
  sample: ["upstream_node_id: 3 -> 1"]
dry_run:
  description: repmgr's findings from C(--dry-run), one message each.
  returned: check mode, when a command would run
  type: list
  elements: dict
  sample: [{level: INFO, text: "all prerequisites for \"standby register\" are met"}]
log:
  description: repmgr's messages from the command run (C(level) is INFO, NOTICE, WARNING, ERROR, HINT, DETAIL, ...).
  returned: when a command ran, and on failure
  type: list
  elements: dict
commands:
  description: Commands run, in order (as C((as postgres) /usr/bin/repmgr -f ...) when switching users).
  returned: always
  type: list
  elements: str
rc:
  description: repmgr's exit code; the message names it (C(ERR_BAD_CONFIG), C(ERR_DB_CONN), ...).
  returned: failure of a repmgr command
  type: int
'''
