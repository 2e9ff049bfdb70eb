# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.repmgr_rejoin: its code is the collection's action plugin and binary
(plugins/action/repmgr_rejoin.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: repmgr_rejoin
short_description: Rejoin a stopped former primary as a standby with repmgr node rejoin
version_added: "0.1.0"
description:
  - Runs the real C(repmgr node rejoin -d '<conninfo of the current primary>') as O(os_user)
    on a node whose server is stopped (typically the primary that failed over). repmgr
    writes the standby configuration, starts the server and waits until it attaches.
  - Nothing runs when the server already runs as a standby of that primary (its WAL receiver,
    or else its C(primary_conninfo), points at O(primary_host) and O(primary_port)). A server
    running otherwise is refused - rejoin needs it stopped (and a running former primary means
    two primaries).
  - With O(force_rewind), C(pg_controldata) must show C(wal_log_hints = on) or data checksums
    (what pg_rewind needs) before repmgr runs; otherwise the module fails with that message.
  - repmgr starts the server with C(service_start_command), else C(pg_ctl start); repmgr.conf
    must set C(service_start_command) or C(pg_ctl_options) with C(-l <logfile>) (otherwise the
    started server keeps repmgr's output open and the command never returns), which the
    module checks first.
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Runs C(node rejoin --dry-run) and returns repmgr's findings in RV(dry_run); fails when the dry run fails.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  primary_host:
    description: The current primary's host.
    type: str
    required: true
  primary_port:
    description: Its port.
    type: int
    default: 5432
  primary_user:
    description: The user repmgr connects to it as.
    type: str
    default: repmgr
  primary_dbname:
    description: The repmgr database there.
    type: str
    default: repmgr
  primary_password:
    description:
      - Password of O(primary_user), given to repmgr as C(PGPASSWORD) (never on the command line); else the C(~/.pgpass) of O(os_user).
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
  force_rewind:
    description: Run pg_rewind when this node's timeline has diverged from the primary's (C(--force-rewind)).
    type: bool
    default: false
  config_files:
    description: Configuration files inside the data directory to keep across pg_rewind (C(--config-files)), e.g. C(postgresql.local.conf).
    type: list
    elements: str
    default: []
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
seealso:
  - name: repmgr node rejoin
    description: The command the module runs, its dry run and pg_rewind use.
    link: https://www.repmgr.org/docs/5.3/repmgr-node-rejoin.html
  - module: pgha.cluster.repmgr_switchover
  - module: pgha.cluster.repmgr_info
'''

EXAMPLES = r'''
- name: Bring the old primary back as a standby of postgres2
  pgha.cluster.repmgr_rejoin:
    primary_host: 10.0.0.182
    force_rewind: true
  become: true
  become_user: postgres
  when: inventory_hostname == 'postgres1'
'''

RETURN = r'''
node_id:
  description: This node's C(node_id).
  returned: success
  type: int
node_name:
  description: This node's C(node_name).
  returned: success
  type: str
primary:
  description: The primary as C(host:port).
  returned: success
  type: str
  sample: 10.0.0.182:5432
streaming:
  description: Whether the server streams from its upstream at the end (a WAL receiver with a sender).
  returned: success, not in check mode
  type: bool
rewind:
  description: What C(pg_controldata) shows pg_rewind needs (C(wal_log_hints), C(data_checksums), C(cluster_state)).
  returned: with O(force_rewind), when the server is stopped
  type: dict
  sample: {wal_log_hints: true, data_checksums: false, cluster_state: shut down}
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
dry_run:
  description: repmgr's findings from C(node rejoin --dry-run), one message each (C(level), C(text)).
  returned: check mode, when a rejoin would run
  type: list
  elements: dict
log:
  description: repmgr's messages from the rejoin.
  returned: when the rejoin ran, and on failure
  type: list
  elements: dict
commands:
  description: Commands run, in order (the password is passed in the environment and never shown).
  returned: always
  type: list
  elements: str
rc:
  description: repmgr's exit code; the message names it (e.g. C(ERR_REJOIN_FAIL)).
  returned: failure of a repmgr command
  type: int
'''
