# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pgpool_config: its code is the collection's action plugin and binary
(plugins/action/pgpool_config.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pgpool_config
short_description: Set Pgpool-II settings, backends and watchdog nodes in pgpool.conf
version_added: "0.1.0"
description:
  - Sets keys of Pgpool-II's C(pgpool.conf) without a running pgpool, keeping comments, order
    and every unrelated line. An active line is updated in place, else the sample's commented
    default is uncommented and set, else the key is appended. O(state=absent) comments the
    keys of O(settings) out.
  - O(backends) writes the indexed C(backend_hostnameN), C(backend_portN), C(backend_weightN),
    C(backend_data_directoryN), C(backend_flagN) and C(backend_application_nameN) keys for
    N = 0.. in list order; O(watchdog_nodes) writes C(hostnameN), C(wd_portN), C(pgpool_portN),
    C(heartbeat_hostnameN), C(heartbeat_portN) and C(heartbeat_deviceN). When a list shrinks,
    the keys of the indexes past its end are commented out (never deleted).
  - Names are case-sensitive, as Pgpool-II reads them, and checked against the key catalog of
    the Pgpool-II O(version) (4.2 to 4.6); values are validated (booleans, integers with units,
    enums). A key no Pgpool-II version knows fails, naming the key, and the file is left alone.
    A key the target version ignores (C(delegate_ip) on 4.3, which reads C(delegate_IP)) is
    written but warned about.
  - Returns whether Pgpool-II needs a restart or a reload to apply the change.
  - A line that cannot be parsed fails the task with its line number; C(include) directives are
    reported, not followed.
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
    description: The pgpool.conf file.
    type: path
    required: true
    aliases: [dest]
  settings:
    description:
      - Keys to set, as a dict of name to value. Booleans become C(on)/C(off); strings are
        written quoted and numbers bare, as Pgpool-II's sample does.
      - With O(state=absent), the keys to comment out (their values are ignored).
    type: dict
  backends:
    description:
      - The PostgreSQL backends, in node id order (the first is node 0).
    type: list
    elements: dict
    suboptions:
      host:
        description: C(backend_hostnameN).
        type: str
        required: true
        aliases: [hostname]
      port:
        description: C(backend_portN).
        type: int
        default: 5432
      weight:
        description: C(backend_weightN), the load-balance ratio.
        type: float
        default: 1
      data_directory:
        description: C(backend_data_directoryN); commented out when omitted.
        type: str
      flag:
        description: C(backend_flagN).
        type: str
        default: ALLOW_TO_FAILOVER
      application_name:
        description: C(backend_application_nameN); commented out when omitted.
        type: str
  watchdog_nodes:
    description:
      - The Pgpool-II watchdog nodes, in C(pgpool_node_id) order (the first is node 0).
    type: list
    elements: dict
    suboptions:
      host:
        description: C(hostnameN).
        type: str
        required: true
        aliases: [hostname]
      wd_port:
        description: C(wd_portN).
        type: int
        default: 9000
      pgpool_port:
        description: C(pgpool_portN).
        type: int
        default: 9999
      heartbeat_hostname:
        description: C(heartbeat_hostnameN); defaults to O(watchdog_nodes[].host).
        type: str
      heartbeat_port:
        description: C(heartbeat_portN).
        type: int
        default: 9694
      heartbeat_device:
        description: C(heartbeat_deviceN); empty for none.
        type: str
        default: ""
  state:
    description: C(present) sets the keys of O(settings); C(absent) comments them out.
    type: str
    choices: [present, absent]
    default: present
  version:
    description: Pgpool-II version (major.minor) whose key catalog names are checked against.
    type: str
    default: "4.3"
  create:
    description: Create the file when it does not exist.
    type: bool
    default: false
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
  - name: Pgpool-II configuration
    description: The reference of every pgpool.conf parameter.
    link: https://www.pgpool.net/docs/43/en/html/runtime-config.html
  - module: pgha.cluster.pg_hba
  - module: pgha.cluster.pool_passwd
'''

EXAMPLES = r'''
- name: Pgpool-II of the seed - three backends, three watchdog nodes and a VIP
  pgha.cluster.pgpool_config:
    path: /etc/pgpool2/pgpool.conf
    version: "4.3"
    settings:
      listen_addresses: "*"
      port: 9999
      backend_clustering_mode: streaming_replication
      sr_check_user: pgpool
      health_check_period: 5
      use_watchdog: true
      delegate_IP: 192.168.1.100
      wd_lifecheck_method: heartbeat
      wd_interval: 2
      wd_heartbeat_keepalive: 2
      wd_heartbeat_deadtime: 6
      if_up_cmd: "/usr/bin/sudo /sbin/ip addr add $_IP_$/24 dev eth0 label eth0:0"
      if_down_cmd: "/usr/bin/sudo /sbin/ip addr del $_IP_$/24 dev eth0"
      arping_cmd: "/usr/bin/sudo /usr/bin/arping -U $_IP_$ -w 1 -I eth0"
    backends:
      - {host: postgres1, data_directory: /data1/pgsql/15/data}
      - {host: postgres2, data_directory: /data1/pgsql/15/data}
      - {host: postgres3, data_directory: /data1/pgsql/15/data}
    watchdog_nodes:
      - {host: postgres1}
      - {host: postgres2}
      - {host: postgres3}
    owner: postgres
    group: postgres
  register: pgpool_conf
  notify: "{{ 'Restart pgpool' if pgpool_conf.restart_required else 'Reload pgpool' }}"

- name: Two backends now; backend_*2 keys are commented out
  pgha.cluster.pgpool_config:
    path: /etc/pgpool2/pgpool.conf
    backends:
      - {host: postgres1, data_directory: /data1/pgsql/15/data}
      - {host: postgres2, data_directory: /data1/pgsql/15/data}

- name: Back to the default for a key
  pgha.cluster.pgpool_config:
    path: /etc/pgpool2/pgpool.conf
    settings: {health_check_period: null}
    state: absent
'''

RETURN = r'''
restart_required:
  description: Whether the change only takes effect after Pgpool-II restarts.
  returned: success
  type: bool
reload_required:
  description: Whether a reload (C(pgpool reload)) applies the change.
  returned: success
  type: bool
previous:
  description:
    - The values before the change (null when unset) of the O(settings) keys, and of every
      indexed backend/watchdog key that changed.
  returned: success
  type: dict
  sample: {port: "9999", backend_hostname2: "postgres3"}
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
