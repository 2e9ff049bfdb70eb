# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.repmgr_standby_clone: its code is the collection's action plugin and binary
(plugins/action/repmgr_standby_clone.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: repmgr_standby_clone
short_description: Clone this node's data directory from an upstream with repmgr standby clone
version_added: "0.1.0"
description:
  - Runs the real C(repmgr -h <upstream> -U <user> -d <db> standby clone) as O(os_user), which
    copies the upstream with C(pg_basebackup) and writes C(standby.signal) and
    C(primary_conninfo). The server is not started - start its service, then register it with
    M(pgha.cluster.repmgr_register).
  - The data directory is C(data_directory) of repmgr.conf (repmgr 5.3 ignores C(-D) when it
    has a configuration file). What it finds there decides what it does -
    missing or empty - clone (a missing directory is created first, owned by O(os_user), mode 0700);
    the data directory of a running primary - refuse, whatever O(force) says;
    already a standby of this upstream (C(standby.signal) and a C(primary_conninfo) with the
    upstream's host and port), running or not - nothing;
    any other running server - refuse (stop it first);
    anything else, stopped - with O(force) overwrite it (C(standby clone --force)), without refuse.
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Runs C(standby clone --dry-run) and returns repmgr's findings in RV(dry_run); fails when the dry run fails.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: partial
    details: Says that a new copy is made.
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  upstream_host:
    description: Host of the node to copy (usually the primary).
    type: str
    required: true
  upstream_port:
    description: Its port.
    type: int
    default: 5432
  upstream_user:
    description: User repmgr connects as (C(-U)); also the replication user unless repmgr.conf sets C(replication_user).
    type: str
    default: repmgr
  upstream_dbname:
    description: The repmgr database on the upstream (C(-d)).
    type: str
    default: repmgr
  upstream_password:
    description:
      - Password of O(upstream_user), given to repmgr and pg_basebackup as C(PGPASSWORD), never on the command line.
      - When omitted, the C(~/.pgpass) of O(os_user) (the seed's way; also what the standby's WAL receiver uses).
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
  upstream_node_id:
    description: The upstream's node_id (C(--upstream-node-id)), for a cascading standby; default the primary.
    type: int
  force:
    description: Overwrite a stopped data directory (or other files) that is not already a standby of this upstream. Never applies to a running server.
    type: bool
    default: false
  fast_checkpoint:
    description: Ask the upstream for an immediate checkpoint (C(--fast-checkpoint)) instead of waiting for the next one.
    type: bool
    default: true
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
  - name: repmgr standby clone
    description: The command the module runs to make a standby from its upstream.
    link: https://www.repmgr.org/docs/5.3/repmgr-standby-clone.html
  - module: pgha.cluster.repmgr_register
  - module: pgha.cluster.pg_basebackup_standby
'''

EXAMPLES = r'''
- name: Clone the standbys from postgres1 (seed - repmgr -h 10.0.2.1 -U repmgr -d repmgr standby clone)
  pgha.cluster.repmgr_standby_clone:
    upstream_host: 10.0.0.181
  become: true
  when: inventory_hostname != 'postgres1'

- name: Rebuild a stopped former primary as a fresh copy
  pgha.cluster.repmgr_standby_clone:
    upstream_host: 10.0.0.182
    force: true
  become: true
'''

RETURN = r'''
data_directory:
  description: The data directory.
  returned: success
  type: str
  sample: /var/lib/postgresql/15/main
upstream:
  description: The upstream as C(host:port).
  returned: success
  type: str
  sample: 10.0.0.181:5432
primary_conninfo:
  description: The standby's C(primary_conninfo) (password masked).
  returned: success, when the directory is a standby
  type: str
  sample: host=10.0.0.181 port=5432 user=repmgr application_name=postgres2
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
dry_run:
  description: repmgr's findings from C(standby clone --dry-run), one message each (C(level), C(text)).
  returned: check mode, when a clone would run
  type: list
  elements: dict
  sample: [{level: INFO, text: "all prerequisites for \"standby clone\" are met"}]
log:
  description: repmgr's messages from the clone.
  returned: when the clone ran
  type: list
  elements: dict
commands:
  description: Commands run, in order (the password is passed in the environment and never shown).
  returned: always
  type: list
  elements: str
rc:
  description: repmgr's exit code; the message names it (e.g. C(ERR_BAD_BASEBACKUP)).
  returned: failure of a repmgr command
  type: int
'''
