# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_role: its code is the collection's action plugin and binary
(plugins/action/pg_role.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_role
short_description: Manage a PostgreSQL role, its SCRAM-SHA-256 password and memberships
version_added: "0.1.0"
description:
  - Creates, alters or drops a role (C(CREATE ROLE), C(ALTER ROLE), C(DROP ROLE)) and grants or
    revokes its memberships in other roles.
  - The password never reaches the server in clear text. The SCRAM-SHA-256 verifier is
    computed by the module (random salt, 4096 iterations, as psql's C(\password) and libpq do)
    and stored with C(ALTER ROLE ... PASSWORD '<verifier>'), so even with
    C(log_statement = all) the server log holds no plaintext password.
  - Idempotent password handling - the stored verifier is checked against O(password); an
    unchanged password reports no change. This needs read access to C(pg_authid) (a superuser
    login); without it the password is set on every run, with a warning.
  - Only the attributes given are compared and changed. A new role gets C(LOGIN) unless
    O(login=false) (as C(CREATE USER) and community.postgresql.postgresql_user do).
  - A plan that changes something fails on a standby with "server is a standby; this needs a
    primary"; a task that changes nothing succeeds on every node.
  - Names are always quoted identifiers, so any name (spaces, quotes, upper case, non-ASCII)
    is created exactly as given.
  - A static binary; the target needs neither Python nor libpq.
author: pgha maintainers (!UNKNOWN)
extends_documentation_fragment: [pgha.cluster.postgres]
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Nothing is executed; RV(queries) lists the statements that would run.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: full
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  name:
    description: Name of the role (at most 63 bytes).
    type: str
    required: true
    aliases: [user]
  password:
    description:
      - Password in clear text (hashed by the module into a SCRAM-SHA-256 verifier), or an
        already computed SCRAM-SHA-256 verifier or C(md5) hash (stored as given).
      - An empty string removes the password (C(PASSWORD NULL)).
      - A password stored as an md5 hash is replaced by a SCRAM-SHA-256 verifier.
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
  state:
    description: Whether the role should exist. C(absent) drops it (C(DROP ROLE) fails while it owns objects).
    type: str
    choices: [present, absent]
    default: present
  login:
    description: C(LOGIN) attribute. A new role gets C(LOGIN) when this is not given.
    type: bool
  superuser:
    description: C(SUPERUSER) attribute.
    type: bool
  replication:
    description: C(REPLICATION) attribute (for streaming replication and pg_basebackup).
    type: bool
  createdb:
    description: C(CREATEDB) attribute.
    type: bool
  createrole:
    description: C(CREATEROLE) attribute.
    type: bool
  inherit:
    description: C(INHERIT) attribute.
    type: bool
  bypassrls:
    description: C(BYPASSRLS) attribute.
    type: bool
  conn_limit:
    description: C(CONNECTION LIMIT); C(-1) means no limit.
    type: int
  valid_until:
    description: C(VALID UNTIL) - a timestamp the server understands, or C(infinity).
    type: str
    aliases: [expires]
  member_of:
    description: Roles this role should be a member of (C(GRANT <group> TO <role>)).
    type: list
    elements: str
  membership:
    description:
      - C(add) grants the roles of O(member_of) and leaves other memberships alone.
      - C(exact) also revokes every membership not in O(member_of).
    type: str
    choices: [add, exact]
    default: add
  no_password_changes:
    description: Set O(password) only when the role is created; never change it afterwards.
    type: bool
    default: false
notes:
  - Changing C(SUPERUSER), C(REPLICATION) or C(BYPASSRLS) needs a superuser login; a missing
    privilege fails with "permission denied".
seealso:
  - name: CREATE ROLE
    description: PostgreSQL's reference for role attributes.
    link: https://www.postgresql.org/docs/current/sql-createrole.html
  - name: Password authentication
    description: SCRAM-SHA-256 and how PostgreSQL stores passwords.
    link: https://www.postgresql.org/docs/current/auth-password.html
  - module: pgha.cluster.pg_info
  - module: community.postgresql.postgresql_user
'''

EXAMPLES = r'''
- name: Replication user of the seed, with a SCRAM password (plaintext never sent to the server)
  pgha.cluster.pg_role:
    name: repl
    password: "{{ repl_password }}"
    replication: true
    login: true
  become: true
  become_user: postgres

- name: Pgpool's health-check user, member of pg_monitor
  pgha.cluster.pg_role:
    name: pgpool
    password: "{{ pgpool_password }}"
    member_of: [pg_monitor]

- name: The repmgr superuser (seed 001)
  pgha.cluster.pg_role:
    name: repmgr
    superuser: true
    password: "{{ repmgr_password }}"

- name: Exactly these memberships, over TCP with a password from ~/.pgpass
  pgha.cluster.pg_role:
    login_host: 10.0.0.181
    name: app
    member_of: [readers]
    membership: exact

- name: Drop a role
  pgha.cluster.pg_role:
    name: old_app
    state: absent
'''

RETURN = r'''
role:
  description: Name of the role.
  returned: always
  type: str
  sample: repl
state:
  description: Whether the role exists after the run (or would, in check mode).
  returned: always
  type: str
  sample: present
queries:
  description:
    - Statements executed, in order (in check mode, the statements that would run). Values
      appear as literals; a password verifier is shown as C('********').
  returned: always
  type: list
  elements: str
  sample: ['CREATE ROLE "repl" WITH LOGIN REPLICATION', "ALTER ROLE \"repl\" PASSWORD '********'"]
'''
