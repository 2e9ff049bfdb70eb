# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_database: its code is the collection's action plugin and binary
(plugins/action/pg_database.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_database
short_description: Manage a PostgreSQL database and its owner
version_added: "0.1.0"
description:
  - Creates or drops a database and sets its owner.
  - Encoding and locale are fixed at creation. A database that exists with another O(encoding),
    O(lc_collate) or O(lc_ctype) is an error (drop and re-create it); it is never changed
    silently.
  - A plan that changes something fails on a standby with "server is a standby; this needs a
    primary"; a task that changes nothing succeeds on every node.
  - Names are always quoted identifiers, so any name is created exactly as given.
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
    description: Name of the database (at most 63 bytes).
    type: str
    required: true
    aliases: [db]
  owner:
    description: Owner role. At creation the default is O(login_user); an existing database gets C(ALTER DATABASE ... OWNER TO).
    type: str
  encoding:
    description: Encoding at creation (C(UTF8)). Checked, never changed, for an existing database.
    type: str
  lc_collate:
    description: C(LC_COLLATE) at creation. Checked, never changed, for an existing database.
    type: str
  lc_ctype:
    description: C(LC_CTYPE) at creation. Checked, never changed, for an existing database.
    type: str
  template:
    description: Template database to copy at creation (C(template0) to choose another encoding or locale than C(template1)'s).
    type: str
  state:
    description: Whether the database should exist.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: With O(state=absent), drop the database even while sessions are connected to it (C(DROP DATABASE ... WITH (FORCE))).
    type: bool
    default: false
seealso:
  - name: CREATE DATABASE
    description: PostgreSQL's reference for database owner, encoding, locale and template.
    link: https://www.postgresql.org/docs/current/sql-createdatabase.html
  - module: pgha.cluster.pg_role
  - module: community.postgresql.postgresql_db
'''

EXAMPLES = r'''
- name: The repmgr database owned by repmgr (seed 001)
  pgha.cluster.pg_database:
    name: repmgr
    owner: repmgr
  become: true
  become_user: postgres

- name: A UTF-8 database with the C locale
  pgha.cluster.pg_database:
    name: app
    owner: app
    encoding: UTF8
    lc_collate: C.UTF-8
    lc_ctype: C.UTF-8
    template: template0

- name: Drop a database, disconnecting its sessions
  pgha.cluster.pg_database:
    name: scratch
    state: absent
    force: true
'''

RETURN = r'''
database:
  description: Name of the database.
  returned: always
  type: str
  sample: repmgr
owner:
  description: Owner after the run (or in check mode, the owner it would have).
  returned: when the database exists after the run
  type: str
  sample: repmgr
state:
  description: Whether the database exists after the run.
  returned: always
  type: str
  sample: present
queries:
  description: Statements executed, in order (in check mode, the statements that would run).
  returned: always
  type: list
  elements: str
  sample: ['CREATE DATABASE "repmgr" OWNER "repmgr"']
'''
