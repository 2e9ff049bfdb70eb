# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_config: its code is the collection's action plugin and binary
(plugins/action/pg_config.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_config
short_description: Set PostgreSQL parameters in postgresql.conf or a conf.d file
version_added: "0.1.0"
description:
  - Sets one parameter (O(name) and O(value)) or many (O(settings)) in a configuration file,
    without a running server.
  - An active line is updated in place (the last one, which is the one PostgreSQL uses); else
    the commented default (C(#wal_level = replica)) is uncommented and set, keeping its
    comment; else the setting is appended. O(state=absent) comments the setting out.
  - Names and values are checked against PostgreSQL's parameter catalog for the major version
    in O(version) (12 to 17). Unknown names fail unless they carry an extension prefix
    (C(repmgr.), C(pg_stat_statements.)); booleans, integers with units, reals and enums are
    validated. Values equal after normalisation (C(8MB) and C(8192kB), C(on) and C(true)) are
    no change.
  - Returns whether a restart (postmaster-context parameters such as C(wal_level),
    C(shared_preload_libraries), C(max_wal_senders)) or a reload is needed.
  - C(include), C(include_if_exists) and C(include_dir) directives are reported, not followed.
  - O(path) is reached without trusting links a less privileged user made. A symbolic link (on the way
    or as the file itself) is followed only when root or the owner of its target made it, a link to
    nothing only when root made it; any other link is refused, as is anything that is not a regular
    file (a FIFO, a device). The target of a followed link is edited and keeps its owner and group
    (O(owner) and O(group) are not changed through a link).
  - No value may hold a NUL byte or another control character (tab and line breaks aside, which each
    format judges).
  - Passwords in settings (the C(password) of a conninfo value such as C(primary_conninfo) or
    repmgr's C(conninfo); Pgpool-II's C(*_password) settings and C(wd_authkey)) are shown as
    C(********) in the diff, in C(previous) and in the invocation.
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: full
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  path:
    description: The configuration file.
    type: path
    required: true
    aliases: [dest]
  name:
    description: One parameter to set. Mutually exclusive with O(settings).
    type: str
  value:
    description: Its value (required with O(name) and O(state=present)). Booleans become C(on)/C(off).
    type: raw
  settings:
    description: Parameters to set, as a dict of name to value.
    type: dict
  state:
    description: C(present) sets the parameters; C(absent) comments out every active line of them.
    type: str
    choices: [present, absent]
    default: present
  version:
    description: PostgreSQL major version the catalog checks against.
    type: int
    default: 15
  create:
    description: Create the file when it does not exist (for a conf.d file).
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: false
  mode:
    description: Mode of the file (octal string). Unchanged when omitted; new files get C(0600).
    type: raw
  owner:
    description: Owner of the file. Unchanged when omitted.
    type: str
  group:
    description: Group of the file. Unchanged when omitted.
    type: str
seealso:
  - name: Setting parameters
    description: How postgresql.auto.conf, ALTER SYSTEM and reloads interact.
    link: https://www.postgresql.org/docs/current/config-setting.html
  - module: community.postgresql.postgresql_set
'''

EXAMPLES = r'''
- name: Replication settings of the seed
  pgha.cluster.pg_config:
    path: /data1/pgsql/15/data/postgresql.conf
    settings:
      listen_addresses: "*"
      archive_mode: "on"
      archive_command: "cp %p /data1/pgsql/15/archive/%f"
      max_wal_senders: 10
      max_replication_slots: 10
      wal_level: replica
      hot_standby: "on"
      wal_log_hints: "on"
  register: pgconf
  notify: "{{ 'Restart postgresql' if pgconf.restart_required else 'Reload postgresql' }}"

- name: Comment out a setting
  pgha.cluster.pg_config:
    path: /data1/pgsql/15/data/postgresql.conf
    name: work_mem
    state: absent
'''

RETURN = r'''
restart_required:
  description: Whether a changed parameter only takes effect after a server restart.
  returned: success
  type: bool
reload_required:
  description: Whether a changed parameter takes effect after a reload.
  returned: success
  type: bool
previous:
  description: The effective values before the change of the parameters asked about (null when unset).
  returned: success
  type: dict
  sample: {wal_level: null, max_wal_senders: "5"}
includes:
  description:
    - Include directives found in the file (reported, not followed), each as the directive, the
      quoted path and its line number.
  returned: success
  type: list
  elements: str
  sample: ["include_dir 'conf.d' (line 12)"]
backup_file:
  description: Name of the backup file.
  returned: changed and O(backup=true)
  type: str
'''
