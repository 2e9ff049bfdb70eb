# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.repmgr_info: its code is the collection's action plugin and binary
(plugins/action/repmgr_info.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: repmgr_info
short_description: The repmgr cluster as data - nodes, roles, upstreams, status, repmgrd
version_added: "0.1.0"
description:
  - Reads every node's record from C(repmgr.nodes) on this node (over the PostgreSQL wire
    protocol, with the C(conninfo) of repmgr.conf), and runs the real
    C(repmgr cluster show --csv) (can repmgr reach each node, is it a primary or a standby)
    and C(repmgr service status --csv) (repmgrd per node) as O(os_user).
  - Never changes anything. Fails when this node's own server cannot be reached; succeeds with
    RV(installed=false) when the repmgr extension is not there yet.
  - Warns when more than one node runs as a primary.
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Reads only; the same in check mode.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
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
  - name: repmgr cluster show
    description: The command whose view of the cluster the module returns.
    link: https://www.repmgr.org/docs/5.3/repmgr-cluster-show.html
  - name: repmgr service status
    description: The command that reports repmgrd on every node.
    link: https://www.repmgr.org/docs/5.3/repmgr-service-status.html
  - module: pgha.cluster.repmgr_register
'''

EXAMPLES = r'''
- name: Who is primary?
  pgha.cluster.repmgr_info:
  become: true
  become_user: postgres
  register: repmgr

- name: Every node runs
  ansible.builtin.assert:
    that:
      - repmgr.nodes | rejectattr('status', 'eq', 'running') | list | length == 0
      - repmgr.running_primaries | length == 1
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
local_in_recovery:
  description: Whether this node's server is in recovery (a standby).
  returned: success
  type: bool
installed:
  description: Whether the repmgr extension (C(repmgr.nodes)) exists in this node's database.
  returned: success
  type: bool
nodes:
  description:
    - Every registered node, by node_id. C(status) is C(running), C(unreachable), C(running as primary) / C(running as standby)
      (the server is not what the record says), or C(unknown); C(connected) and C(recovery) (C(primary), C(standby), C(unknown))
      come from C(cluster show); C(repmgrd) (C(running), C(pid), C(paused), C(upstream_last_seen)) from C(service status),
      its values null when the node's server does not answer. The conninfo has any password masked.
  returned: success
  type: list
  elements: dict
  sample: [{node_id: 1, node_name: postgres1, type: primary, upstream_node_id: null, upstream_node_name: null, location: default,
            priority: 100, active: true, conninfo: "host=10.0.0.181 user=repmgr dbname=repmgr", slot_name: null,
            config_file: /etc/repmgr.conf, status: running, connected: true, recovery: primary,
            repmgrd: {running: true, pid: 4242, paused: false, upstream_last_seen: null}}]
primary:
  description: The active primary's record (C(node_id), C(node_name)), or null.
  returned: success
  type: dict
  sample: {node_id: 1, node_name: postgres1}
primary_node_id:
  description: Its node_id, or null.
  returned: success
  type: int
  sample: 1
running_primaries:
  description: node_ids of the nodes whose server runs as a primary (more than one means split brain).
  returned: success
  type: list
  elements: int
  sample: [1]
commands:
  description: Commands run.
  returned: always
  type: list
  elements: str
'''
