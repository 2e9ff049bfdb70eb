# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.repmgr_config: its code is the collection's action plugin and binary
(plugins/action/repmgr_config.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: repmgr_config
short_description: Set keys in repmgr.conf (repmgr 5.3)
version_added: "0.1.0"
description:
  - Sets keys of repmgr's C(repmgr.conf), keeping comments, order and unrelated lines. An
    active line is updated in place, else a commented line of the key is uncommented and set,
    else the key is appended. O(state=absent) comments the keys out.
  - Written with repmgr's quoting - strings (and enums and intervals) in single quotes with
    C('') escapes, integers and booleans bare.
  - Names are case-sensitive and checked against repmgr 5.3's key set (pre-5 names fail naming
    their replacement); values are validated (integers with their minimum, booleans, enums such
    as C(failover), intervals). A bad key or value fails and the file is left alone.
  - Returns whether a running repmgrd needs a restart or a reload (SIGHUP) to see the change;
    the C(repmgr) command reads the file on every run.
  - The file is created (mode C(0640)) when missing unless O(create=false).
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
    description: The repmgr.conf file.
    type: path
    required: true
    aliases: [dest]
  settings:
    description:
      - Keys to set, as a dict of name to value. Booleans become C(true)/C(false).
      - With O(state=absent), the keys to comment out (their values are ignored).
    type: dict
    required: true
  state:
    description: C(present) sets the keys; C(absent) comments them out.
    type: str
    choices: [present, absent]
    default: present
  create:
    description: Create the file when it does not exist.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: false
  mode:
    description: Mode of the file (octal string). Unchanged when omitted; new files get C(0640).
    type: raw
  owner:
    description: Owner of the file. Unchanged when omitted.
    type: str
  group:
    description: Group of the file. Unchanged when omitted.
    type: str
seealso:
  - name: repmgr configuration
    description: The repmgr.conf reference.
    link: https://www.repmgr.org/docs/5.3/configuration-file.html
'''

EXAMPLES = r'''
- name: repmgr.conf of the first node of the seed
  pgha.cluster.repmgr_config:
    path: /etc/repmgr.conf
    owner: postgres
    group: postgres
    settings:
      node_id: 1
      node_name: postgres1
      conninfo: "host=postgres1 user=repmgr dbname=repmgr connect_timeout=2"
      data_directory: /data1/pgsql/15/data
      use_replication_slots: true
      failover: automatic
      promote_command: "/usr/bin/repmgr standby promote -f /etc/repmgr.conf --log-to-file"
      follow_command: "/usr/bin/repmgr standby follow -f /etc/repmgr.conf --log-to-file --upstream-node-id=%n"
      repmgrd_pid_file: /var/run/postgresql/repmgrd.pid
      reconnect_attempts: 4
      reconnect_interval: 5
  register: repmgr_conf
  notify: "{{ 'Restart repmgrd' if repmgr_conf.restart_required else 'Reload repmgrd' }}"

- name: Comment a key out
  pgha.cluster.repmgr_config:
    path: /etc/repmgr.conf
    settings: {reconnect_interval: null}
    state: absent
'''

RETURN = r'''
restart_required:
  description: Whether a running repmgrd must restart to see the change.
  returned: success
  type: bool
reload_required:
  description: Whether a reload (SIGHUP) of repmgrd is enough.
  returned: success
  type: bool
previous:
  description: The values before the change of the keys asked about (null when unset).
  returned: success
  type: dict
  sample: {node_id: null, reconnect_attempts: "6"}
backup_file:
  description: Name of the backup file.
  returned: changed and O(backup=true)
  type: str
'''
