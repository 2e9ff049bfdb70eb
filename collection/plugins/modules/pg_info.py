# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_info: its code is the collection's action plugin and binary
(plugins/action/pg_info.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_info
short_description: Gather facts about a PostgreSQL server and its replication
version_added: "0.1.0"
description:
  - Reports the server version, whether it is in recovery (a standby), the standbys it feeds
    (C(pg_stat_replication)), its WAL receiver, replication slots, chosen settings, databases
    and roles.
  - Read-only; works on a primary and on a standby. RV(version) and RV(in_recovery) are
    always returned; O(gather) picks the rest.
  - A static binary; the target needs neither Python nor libpq.
author: pgha maintainers (!UNKNOWN)
extends_documentation_fragment: [pgha.cluster.postgres]
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: The module changes nothing and runs the same in check mode.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  gather:
    description: Parts to gather besides RV(version) and RV(in_recovery).
    type: list
    elements: str
    choices: [all, replication, wal_receiver, slots, settings, databases, roles]
    default: [all]
  settings:
    description:
      - Settings to report in RV(settings). Unknown names are left out with a warning.
      - A password in C(primary_conninfo) is shown as C(********).
    type: list
    elements: str
    default: [listen_addresses, port, data_directory, config_file, hba_file, wal_level, max_wal_senders,
              max_replication_slots, wal_keep_size, hot_standby, wal_log_hints, archive_mode, archive_command,
              primary_conninfo, primary_slot_name, synchronous_standby_names, shared_preload_libraries,
              password_encryption]
seealso:
  - name: Monitoring replication
    description: The pg_stat_replication view the module reports from.
    link: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-REPLICATION-VIEW
  - module: community.postgresql.postgresql_info
'''

EXAMPLES = r'''
- name: Is this node a primary or a standby?
  pgha.cluster.pg_info:
    gather: []
  become: true
  become_user: postgres
  register: pg

- name: Fail unless exactly one node is a primary
  ansible.builtin.assert:
    that: ansible_play_hosts | map('extract', hostvars, ['pg', 'in_recovery']) | reject | list | length == 1
  run_once: true

- name: Replication state of the primary
  pgha.cluster.pg_info:
    gather: [replication, slots]
  register: repl
'''

RETURN = r'''
version:
  description: Server version.
  returned: always
  type: dict
  sample: {major: 15, minor: 4, num: 150004, server_version: "15.4 (Debian 15.4-1)", full: "PostgreSQL 15.4 ..."}
in_recovery:
  description: Whether the server is in recovery (a standby).
  returned: always
  type: bool
  sample: false
replication:
  description: One entry per row of C(pg_stat_replication) (the standbys this server feeds), with C(replay_lag_bytes).
  returned: when gathered
  type: list
  elements: dict
  sample: [{pid: 4242, user: repl, application_name: postgres2, client_addr: 10.0.0.182, state: streaming,
            sync_state: async, replay_lsn: "0/3000148", replay_lag_bytes: 0}]
wal_receiver:
  description: The WAL receiver of a standby (C(pg_stat_wal_receiver)) with C(lag_bytes); null when none runs.
  returned: when gathered
  type: dict
  sample: {status: streaming, sender_host: 10.0.0.181, sender_port: 5432, slot_name: postgres2, lag_bytes: 0}
slots:
  description: Replication slots, with C(retained_bytes) of WAL on a primary.
  returned: when gathered
  type: list
  elements: dict
  sample: [{name: postgres2, slot_type: physical, active: true, restart_lsn: "0/3000148", wal_status: reserved}]
settings:
  description: The current value of each setting of O(settings).
  returned: when gathered
  type: dict
  sample: {wal_level: replica, max_wal_senders: "10"}
pending_restart:
  description: Settings of O(settings) changed in the files that need a restart to apply.
  returned: when settings are gathered
  type: list
  elements: str
  sample: [max_wal_senders]
databases:
  description: Databases by name, with owner, encoding, locale, size.
  returned: when gathered
  type: dict
  sample: {postgres: {owner: postgres, encoding: UTF8, lc_collate: C.UTF-8, lc_ctype: C.UTF-8, size: 7631663}}
roles:
  description: Roles by name (the built-in C(pg_*) roles left out), with attributes and memberships.
  returned: when gathered
  type: dict
  sample: {pgpool: {login: true, superuser: false, replication: false, member_of: [pg_monitor]}}
queries:
  description: Always empty - the module only reads.
  returned: always
  type: list
  elements: str
  sample: []
'''
