# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.repmgr_switchover: its code is the collection's action plugin and binary
(plugins/action/repmgr_switchover.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: repmgr_switchover
short_description: Promote this standby and demote the primary with repmgr standby switchover
version_added: "0.1.0"
description:
  - Runs the real C(repmgr standby switchover --siblings-follow) on this standby as
    O(os_user). repmgr reaches the current primary over SSH as O(os_user) (passwordless SSH
    between the nodes is needed - see role C(ssh_trust)), shuts it down, promotes this node and
    makes the former primary (and with O(siblings_follow) the other standbys) follow it.
  - Nothing runs when this node's server is already a primary (C(pg_is_in_recovery()) false).
  - repmgr's exit codes become messages that say what happened -
    C(ERR_SWITCHOVER_FAIL) (18) the switchover did not take place;
    C(ERR_SWITCHOVER_INCOMPLETE) (22) this node was promoted but the former primary did not
    rejoin (use M(pgha.cluster.repmgr_rejoin) there);
    C(ERR_BAD_CONFIG) (1) a prerequisite failed (SSH, records, repmgr.conf);
    C(ERR_DB_CONN) (6) a server could not be reached.
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details:
      - Runs C(standby switchover --dry-run) and returns repmgr's findings in RV(dry_run), one message each.
      - Fails with the problem when the dry run finds one.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  siblings_follow:
    description: Make the other standbys follow the new primary (C(--siblings-follow)).
    type: bool
    default: true
  force_rewind:
    description: Let repmgr run pg_rewind on the demoted primary when needed (C(--force-rewind)); needs C(wal_log_hints=on) or data checksums.
    type: bool
    default: false
  always_promote:
    description: Promote even when this standby has not received all of the primary's WAL (C(--always-promote)). Can lose transactions.
    type: bool
    default: false
  repmgrd_force_unpause:
    description: Unpause every repmgrd afterwards, also those paused before (C(--repmgrd-force-unpause)).
    type: bool
    default: false
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
  - name: repmgr standby switchover
    description: The command the module runs on the standby to be promoted.
    link: https://www.repmgr.org/docs/5.3/repmgr-standby-switchover.html
  - name: repmgr exit codes
    description: repmgr's FAQ page.
    link: https://www.repmgr.org/docs/5.3/appendix-faq.html
  - module: pgha.cluster.repmgr_rejoin
  - module: pgha.cluster.repmgr_info
'''

EXAMPLES = r'''
- name: Dry run first (seed - repmgr standby switchover --siblings-follow --dry-run)
  pgha.cluster.repmgr_switchover:
  check_mode: true
  become: true
  become_user: postgres
  register: dry

- name: Switch over to postgres2
  pgha.cluster.repmgr_switchover:
    force_rewind: true
  become: true
  become_user: postgres
  when: inventory_hostname == 'postgres2'
'''

RETURN = r'''
node_id:
  description: This node's C(node_id).
  returned: success
  type: int
  sample: 2
node_name:
  description: This node's C(node_name).
  returned: success
  type: str
primary_before:
  description: The primary's record before the run (C(node_id), C(node_name)).
  returned: success
  type: dict
  sample: {node_id: 1, node_name: postgres1}
primary_node_id:
  description: The primary after the run (this node unless in check mode).
  returned: success
  type: int
dry_run:
  description: repmgr's findings from C(--dry-run), one message each (C(level), C(text)); also on a failed dry run.
  returned: check mode
  type: list
  elements: dict
  sample: [{level: INFO, text: "SSH connection to host \"10.0.0.181\" succeeded"},
           {level: INFO, text: "prerequisites for executing STANDBY SWITCHOVER are met"}]
log:
  description: repmgr's messages from the switchover.
  returned: when the switchover ran, and on failure
  type: list
  elements: dict
commands:
  description: Commands run, in order.
  returned: always
  type: list
  elements: str
rc:
  description: repmgr's exit code; the message names it and says what it means.
  returned: failure of a repmgr command
  type: int
  sample: 18
'''
