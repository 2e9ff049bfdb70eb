# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_basebackup_standby: its code is the collection's action plugin and binary
(plugins/action/pg_basebackup_standby.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_basebackup_standby
short_description: Make a data directory a streaming standby of a primary with pg_basebackup
version_added: "0.1.0"
description:
  - Turns this node into a streaming standby of O(primary_host), the way the seed does with
    C(pg_basebackup -h primary -R -X stream -C -S <slot>), idempotently and safely.
  - What it finds in O(data_directory) decides what it does -
    missing or empty - copy the primary with the real C(pg_basebackup), write the standby
    settings, start the server and wait until its WAL receiver is C(streaming);
    a running primary's data directory - refuse, whatever O(force) says, and touch nothing;
    already a standby of this primary (same host, port and user) with this O(slot) - bring the
    settings in line and start the server if it is stopped (no change when all is well);
    anything else (another primary's standby, a stopped primary, other files) - with O(force),
    stop the server if it runs, empty the directory and copy as above; without, refuse.
  - C(pg_basebackup) and C(pg_ctl) run as the owner of the data directory (the module switches
    to it when run as root), with that user's C(HOME), so its C(~/.pgpass) is used.
    C(-X stream) always; with O(slot), C(-C -S <slot>) creates the slot with the backup, or
    C(-S <slot>) uses it when it exists.
  - The module writes C(primary_conninfo) and C(primary_slot_name) into C(postgresql.auto.conf)
    and creates C(standby.signal) itself (it does not use C(-R)).
  - Streaming is checked over the server's own Unix socket (read from C(postmaster.pid)) by
    peer authentication as the owner.
  - A static binary; the target needs neither Python nor libpq (it needs the PostgreSQL server
    package, whose C(pg_basebackup) and C(pg_ctl) it runs).
author: pgha maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Nothing is run or written; RV(actions) and the message say what would be done.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: partial
    details: Shows the change of C(postgresql.auto.conf) (passwords masked) or that a new copy is made.
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  primary_host:
    description: Host name or address of the primary.
    type: str
    required: true
  primary_port:
    description: Port of the primary.
    type: int
    default: 5432
  replication_user:
    description: Role with C(REPLICATION) that copies and streams.
    type: str
    default: repl
  replication_password:
    description:
      - Password of O(replication_user). Passed to C(pg_basebackup) in its environment, and
        written into C(primary_conninfo) (in C(postgresql.auto.conf), mode 0600) so the WAL
        receiver can log in.
      - When omitted, both use the C(~/.pgpass) of the data directory's owner (the seed's way,
        and the better one - see pgha.cluster.pgpass).
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
    aliases: [password]
  data_directory:
    description: Data directory of this standby (absolute path). Created with mode 0700 and owner O(owner) when missing.
    type: path
    required: true
    aliases: [pgdata]
  slot:
    description: Physical replication slot on the primary for this standby; created with the backup when missing.
    type: str
  service:
    description:
      - systemd unit that runs this server (C(postgresql@15-main), C(postgresql-15)), stopped
        and started with C(systemctl) (the module must run as root then).
      - When omitted, the server is started with C(pg_ctl start -l <data_directory>/pg_ctl.log) as the owner.
    type: str
  checkpoint:
    description: How the primary takes the backup's checkpoint (C(pg_basebackup -c)).
    type: str
    choices: [fast, spread]
    default: fast
  max_rate:
    description: Bandwidth limit for the copy (C(pg_basebackup -r)) in kB/s, or with a C(k) or C(M) suffix.
    type: str
  timeout:
    description: Seconds to wait for the server to stop, start and stream (the copy itself has no limit).
    type: int
    default: 120
  force:
    description: Replace a non-empty data directory that is not already this standby. Never applies to a running primary.
    type: bool
    default: false
  owner:
    description: Owner of a data directory that does not exist yet. An existing directory keeps its owner, who runs the commands.
    type: str
    default: postgres
  pg_bindir:
    description:
      - Directory of C(pg_basebackup) and C(pg_ctl).
      - When omitted, the directory of the data's major version (C(/usr/lib/postgresql/<v>/bin)
        or C(/usr/pgsql-<v>/bin)), else the newest installed, else C(PATH).
    type: path
  application_name:
    description: C(application_name) in C(primary_conninfo) - the name the primary shows for this standby (Pgpool-II's C(backend_application_nameN)).
    type: str
  settings:
    description:
      - More settings for this standby's C(postgresql.auto.conf), for a standby whose
        configuration in the data directory must differ from the primary's (which the copy
        brings along), such as C(port) or C(cluster_name).
      - A change of these restarts a running standby.
    type: dict
    default: {}
notes:
  - Tablespaces outside the data directory are copied to the same paths as on the primary (pg_basebackup's default).
seealso:
  - name: pg_basebackup
    description: The tool the module runs to copy the primary's data directory.
    link: https://www.postgresql.org/docs/current/app-pgbasebackup.html
  - name: Streaming replication
    description: How a standby follows its primary, and what primary_conninfo means.
    link: https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION
  - module: pgha.cluster.pg_slot
  - module: pgha.cluster.pg_info
'''

EXAMPLES = r'''
- name: Standbys of postgres1, one slot each (seed 000)
  pgha.cluster.pg_basebackup_standby:
    primary_host: 10.0.0.181
    replication_user: repl
    data_directory: /data1/pgsql/15/data
    slot: "{{ inventory_hostname }}"
    application_name: "{{ inventory_hostname }}"
    service: postgresql@15-main
  become: true
  when: inventory_hostname != 'postgres1'

- name: Rebuild a standby that followed another primary
  pgha.cluster.pg_basebackup_standby:
    primary_host: 10.0.0.182
    data_directory: /data1/pgsql/15/data
    slot: postgres3
    force: true
  become: true
'''

RETURN = r'''
data_directory:
  description: The data directory.
  returned: success
  type: str
  sample: /data1/pgsql/15/data
primary:
  description: The primary as C(host:port).
  returned: success
  type: str
  sample: 10.0.0.181:5432
slot:
  description: The slot used (null without one).
  returned: success
  type: str
  sample: postgres2
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["copy 10.0.0.181:5432 into /data1/pgsql/15/data with pg_basebackup using slot postgres2 (created when missing)",
           "write standby.signal, primary_conninfo and primary_slot_name", "start postgresql@15-main and wait until it streams"]
commands:
  description: Commands run, in order (passwords are passed in the environment and never shown).
  returned: always
  type: list
  elements: str
streaming:
  description: Whether the standby streams from the primary at the end.
  returned: success, not in check mode
  type: bool
  sample: true
lag_bytes:
  description: Bytes of WAL the standby has received (or the primary last reported) but not yet replayed.
  returned: success, not in check mode
  type: int
  sample: 0
wal_receiver:
  description: The standby's C(pg_stat_wal_receiver) row.
  returned: success, when the server runs
  type: dict
  sample: {status: streaming, sender_host: 10.0.0.181, sender_port: 5432, slot_name: postgres2, lag_bytes: 0}
'''
