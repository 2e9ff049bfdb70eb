# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pgpool_node: its code is the collection's action plugin and binary
(plugins/action/pgpool_node.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pgpool_node
short_description: Attach, detach, recover or promote a Pgpool-II backend node over PCP
version_added: "0.1.0"
description:
  - Brings one backend of a running Pgpool-II to O(state) with the PCP requests of
    C(pcp_attach_node), C(pcp_detach_node), C(pcp_recovery_node) and C(pcp_promote_node),
    spoken natively - no C(pcp_*) binaries and no C(.pcppass) on the target.
  - Idempotent - the node's status decides whether a request is sent at all. An C(up) or
    C(waiting) node is already O(state=attached) and O(state=recovered); a C(down) (or
    C(quarantine)) node is already O(state=detached); the node Pgpool-II reports as C(primary)
    is already O(state=promoted).
  - After a request the module polls the node's status until it shows the result or
    O(wait_timeout) runs out (then it fails, saying what the node looks like).
  - O(state=promoted) with O(switchover=true) really switches the primary (Pgpool-II 4.3's
    C(pcp_promote_node -s)) - the current primary is detached, C(failover_command) promotes this
    node, and C(follow_primary_command) turns the old primary into a standby of it; the module
    waits until this node is the primary and the old primary is attached again. Without
    O(switchover), Pgpool-II only changes which node it treats as primary (and runs
    C(follow_primary_command)); PostgreSQL itself is not promoted.
  - Detaching the primary makes Pgpool-II run C(failover_command); the module warns.
  - A wrong password or an unreachable pgpool fails with a message naming the PCP endpoint and
    user, never the password.
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Reads the node's status and returns the PCP request that would be sent in RV(commands); sends nothing.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: full
    details: The node's status and role before and after.
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
  node_id:
    description:
      - The backend number N of C(backend_hostnameN). One of O(node_id) and O(hostname) is
        required; with both, they must name the same node.
    type: int
  hostname:
    description: The backend's C(backend_hostnameN), to select the node by name.
    type: str
  port:
    description: With O(hostname), the backend's C(backend_portN), when several backends share a host.
    type: int
  state:
    description:
      - C(attached) - in use by Pgpool-II (C(up) or C(waiting)); a down node is attached.
      - C(detached) - not in use (C(down)); an attached node is detached.
      - C(recovered) - a down node is brought back by online recovery
        (C(recovery_1st_stage_command), C(pgpool_remote_start), then attach); an attached node
        is left alone. Pgpool-II answers when the recovery has finished.
      - C(promoted) - the node is Pgpool-II's primary; only an attached standby can be promoted.
    type: str
    choices: [attached, detached, recovered, promoted]
    default: attached
  switchover:
    description: With O(state=promoted), really switch the primary (see the description).
    type: bool
    default: false
  gracefully:
    description: With O(state=detached) or O(state=promoted), wait for client sessions to end first (C(-g)).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the result, the request included (a recovery or a graceful detach
        is answered only when done).
    type: int
    default: 60
notes:
  - Needs PCP access to pgpool - C(pcp_listen_addresses) must include the address the module
    connects to (C(localhost) by default, so run it on a pgpool node or delegate to one).
seealso:
  - name: Pgpool-II PCP commands
    description: The pcp_* commands this module speaks the protocol of.
    link: https://www.pgpool.net/docs/43/en/html/pcp-commands.html
  - module: pgha.cluster.pgpool_info
  - module: pgha.cluster.pgpool_config
'''

EXAMPLES = r'''
- name: Take node 2 out of load balancing for maintenance
  pgha.cluster.pgpool_node:
    node_id: 2
    state: detached
    gracefully: true
    pcp_password: "{{ pgha_pcp_password }}"

- name: Put it back
  pgha.cluster.pgpool_node:
    node_id: 2
    state: attached
    pcp_password: "{{ pgha_pcp_password }}"

- name: Rebuild a failed node by online recovery (the seed's pcp_recovery_node)
  pgha.cluster.pgpool_node:
    hostname: postgres1
    state: recovered
    wait_timeout: 300
    pcp_password: "{{ pgha_pcp_password }}"

- name: Switch the primary over to postgres2
  pgha.cluster.pgpool_node:
    hostname: postgres2
    state: promoted
    switchover: true
    wait_timeout: 120
    pcp_password: "{{ pgha_pcp_password }}"
  run_once: true
'''

RETURN = r'''
node_id:
  description: The selected node.
  returned: always
  type: int
  sample: 1
state:
  description: O(state) as asked.
  returned: always
  type: str
  sample: attached
before:
  description: The node as Pgpool-II reported it before the run (the keys of RV(node)).
  returned: always
  type: dict
after:
  description: The node after the run; the same as RV(before) when nothing was sent (and in check mode).
  returned: always
  type: dict
node:
  description:
    - The node after the run, with the columns of C(SHOW pool_nodes) - C(node_id), C(hostname),
      C(port), C(status) (C(up), C(waiting), C(down), C(quarantine), C(unused)), C(quarantine),
      C(pg_status), C(role) (C(primary), C(standby)), C(pg_role), C(lb_weight),
      C(replication_delay), C(replication_state), C(replication_sync_state),
      C(last_status_change) (ISO 8601 UTC) and C(last_status_change_epoch).
  returned: always
  type: dict
  sample: {node_id: 1, hostname: 10.0.0.182, port: 5432, status: up, quarantine: false, pg_status: up,
           role: standby, pg_role: standby, lb_weight: 0.333333, replication_delay: 0,
           replication_state: streaming, replication_sync_state: async,
           last_status_change: "2024-05-01T10:00:00Z", last_status_change_epoch: 1714557600}
old_primary:
  description: With O(state=promoted), the node that was the primary before, as it is after the run (null when there was none).
  returned: when a promotion was sent
  type: dict
commands:
  description: The equivalent C(pcp_*) command of the request sent (in check mode, that would be sent); empty when nothing was needed.
  returned: always
  type: list
  elements: str
  sample: ["pcp_attach_node -n 1"]
'''
