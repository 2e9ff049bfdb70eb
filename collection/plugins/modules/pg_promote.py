# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_promote: its code is the collection's action plugin and binary
(plugins/action/pg_promote.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_promote
short_description: Promote a PostgreSQL standby to primary
version_added: "0.1.0"
description:
  - Calls C(pg_promote()) on a standby and, with O(wait), waits until it has left recovery.
  - On a server that is already a primary, nothing happens and nothing is reported changed.
  - C(pg_promote()) needs a superuser login (or C(EXECUTE) granted on it).
  - A static binary; the target needs neither Python nor libpq.
author: pgha maintainers (!UNKNOWN)
extends_documentation_fragment: [pgha.cluster.postgres]
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Reports whether the server would be promoted; nothing is executed.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  wait:
    description: Wait until the promotion has finished (the server is out of recovery).
    type: bool
    default: true
  wait_seconds:
    description: How long to wait with O(wait); the module fails when the server is still in recovery then.
    type: int
    default: 60
    aliases: [timeout]
seealso:
  - name: pg_promote()
    description: The server function the module calls to promote a standby.
    link: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-RECOVERY-CONTROL
  - module: pgha.cluster.pg_info
'''

EXAMPLES = r'''
- name: Promote postgres2 after the primary failed
  pgha.cluster.pg_promote:
    wait_seconds: 30
  become: true
  become_user: postgres
  when: inventory_hostname == 'postgres2'
'''

RETURN = r'''
in_recovery:
  description: Whether the server is in recovery after the run (false once promoted).
  returned: always
  type: bool
  sample: false
queries:
  description: Statements executed (in check mode, the statement that would run).
  returned: always
  type: list
  elements: str
  sample: ["SELECT pg_catalog.pg_promote(true, 60)"]
'''
