# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pgpool_info: its code is the collection's action plugin and binary
(plugins/action/pgpool_info.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pgpool_info
short_description: Backend nodes, health checks and watchdog state of a running Pgpool-II
version_added: "0.1.0"
description:
  - Reads over PCP what C(SHOW pool_nodes), C(pcp_health_check_stats) and C(pcp_watchdog_info)
    show - every backend with its status, role and replication state, the health check
    statistics of each backend, and the watchdog cluster (quorum, leader, each node's state,
    whether the answering node holds the delegate IP).
  - Speaks the PCP protocol natively - no C(pcp_*) binaries and no C(.pcppass) on the target.
  - Read-only - the result always has C(changed=false).
  - A wrong password or an unreachable pgpool fails with a message naming the PCP endpoint and
    user, never the password.
author: pgha maintainers (!UNKNOWN)
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
  pcp_host:
    description:
      - Host name or address of Pgpool-II's PCP service (C(pcp_listen_addresses)), or the
        directory of its Unix socket C(.s.PGSQL.<pcp_port>) (C(pcp_socket_dir), a value
        starting with C(/)).
    type: str
    default: localhost
  pcp_port:
    description: C(pcp_port) of Pgpool-II.
    type: int
    default: 9898
  pcp_user:
    description:
      - PCP user, an entry of C(pcp.conf). The PCP users are Pgpool-II's own, not PostgreSQL
        roles; the Pgpool-II documentation's examples name it C(pgpool).
    type: str
    default: pgpool
  pcp_password:
    description:
      - Password of O(pcp_user) (C(pcp.conf) holds its md5). Sent as Pgpool-II's salted md5
        challenge answer, never in clear, and never shown in the module's output or errors.
      - No C(.pcppass) file is read or needed.
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
    required: true
  connect_timeout:
    description: Seconds to wait for the connection and the authentication together, and for each answer.
    type: int
    default: 10
seealso:
  - name: SHOW POOL_NODES
    description: The backend columns this module returns.
    link: https://www.pgpool.net/docs/43/en/html/sql-show-pool-nodes.html
  - name: pcp_watchdog_info
    description: The watchdog state this module returns.
    link: https://www.pgpool.net/docs/43/en/html/pcp-watchdog-info.html
  - module: pgha.cluster.pgpool_node
'''

EXAMPLES = r'''
- name: What pgpool sees
  pgha.cluster.pgpool_info:
    pcp_password: "{{ pgha_pcp_password }}"
  register: pool

- name: Three backends up, one primary (the seed's first check)
  ansible.builtin.assert:
    that:
      - pool.nodes | selectattr('status', 'in', ['up', 'waiting']) | list | length == 3
      - pool.nodes | selectattr('role', '==', 'primary') | list | length == 1

- name: One watchdog leader, with quorum
  ansible.builtin.assert:
    that:
      - pool.watchdog.leader_node_name is not none
      - pool.watchdog.quorum_status >= 0

- name: Which pgpool node holds the VIP
  pgha.cluster.pgpool_info:
    pcp_password: "{{ pgha_pcp_password }}"
  register: wd
- ansible.builtin.debug:
    msg: "{{ inventory_hostname }} holds the VIP"
  when: wd.watchdog.local_node_escalated
'''

RETURN = r'''
nodes:
  description:
    - Every configured backend, in node id order, with the columns of C(SHOW pool_nodes) -
      C(node_id), C(hostname), C(port), C(status) (C(up), C(waiting), C(down), C(quarantine),
      C(unused)), C(quarantine), C(pg_status), C(role) (C(primary), C(standby)), C(pg_role),
      C(lb_weight), C(replication_delay), C(replication_state), C(replication_sync_state)
      (empty strings when unknown), C(last_status_change) (ISO 8601 UTC) and
      C(last_status_change_epoch).
  returned: always
  type: list
  elements: dict
  sample: [{node_id: 0, hostname: 10.0.0.181, port: 5432, status: up, quarantine: false, pg_status: up,
            role: primary, pg_role: primary, lb_weight: 0.333333, replication_delay: 0,
            replication_state: "", replication_sync_state: "",
            last_status_change: "2024-05-01T10:00:00Z", last_status_change_epoch: 1714557600}]
node_count:
  description: Number of backends.
  returned: always
  type: int
  sample: 3
primary_node_id:
  description: The node Pgpool-II treats as the primary; null when there is none.
  returned: always
  type: int
  sample: 0
health_check_stats:
  description:
    - Health check statistics of each backend (C(pcp_health_check_stats)) - C(node_id),
      C(hostname), C(port), C(status), C(role), C(last_status_change), C(total_count),
      C(success_count), C(fail_count), C(skip_count), C(retry_count), C(average_retry_count),
      C(max_retry_count), C(max_health_check_duration), C(min_health_check_duration),
      C(average_health_check_duration) (milliseconds), C(last_health_check),
      C(last_successful_health_check), C(last_skip_health_check), C(last_failed_health_check)
      (Pgpool-II's local time text, null when never).
  returned: always
  type: list
  elements: dict
watchdog_enabled:
  description: Whether C(use_watchdog) is on.
  returned: always
  type: bool
watchdog:
  description:
    - The watchdog cluster as the answering pgpool sees it; null when C(use_watchdog) is off.
    - C(quorum_status) is 1 (quorum exists), 0 (on the edge), -1 (absent) or -2 (no leader);
      C(quorum_state) says the same in C(pcp_watchdog_info)'s words.
    - C(local_node_escalated) tells whether the answering node holds the delegate IP;
      C(vip_holder) is its node name then, else null (ask the other nodes; the leader holds
      the VIP when it has escalated).
    - C(nodes) lists every watchdog node, the answering one first (C(is_local)), with C(id),
      C(name), C(host), C(pgpool_port), C(wd_port), C(priority), C(state), C(state_name)
      (C(LEADER), C(STANDBY), C(LOST), C(DEAD), C(SHUTDOWN), ...), C(membership),
      C(membership_status), C(delegate_ip) and C(is_leader).
  returned: always
  type: dict
  sample: {node_count: 3, remote_node_count: 2, member_remote_node_count: 2, alive_remote_node_count: 2,
           nodes_required_for_quorum: 2, quorum_status: 1, quorum_state: QUORUM EXIST,
           leader_node_name: "10.0.0.181:9999 Linux postgres1", leader_host_name: 10.0.0.181,
           local_node_escalated: true, vip_holder: "10.0.0.181:9999 Linux postgres1", delegate_ip: 10.0.0.180,
           nodes: [{id: 0, name: "10.0.0.181:9999 Linux postgres1", host: 10.0.0.181, pgpool_port: 9999,
                    wd_port: 9000, priority: 1, state: 4, state_name: LEADER, membership: 0,
                    membership_status: MEMBER, delegate_ip: 10.0.0.180, is_local: true, is_leader: true}]}
'''
