# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_extension: its code is the collection's action plugin and binary
(plugins/action/pg_extension.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_extension
short_description: Manage a PostgreSQL extension in a database
version_added: "0.1.0"
description:
  - Creates, updates, moves or drops an extension (C(CREATE EXTENSION), C(ALTER EXTENSION ...
    UPDATE TO), C(ALTER EXTENSION ... SET SCHEMA), C(DROP EXTENSION)).
  - Fails with a clear message when the server does not offer the extension (its package is
    not installed), when the version asked for does not exist, or when there is no update path
    to it; these are checked in check mode too.
  - The seed creates C(pgpool_recovery) in C(template1) on the primary, so every database
    created later has it.
  - A plan that changes something fails on a standby with "server is a standby; this needs a
    primary".
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
    description: Name of the extension.
    type: str
    required: true
    aliases: [ext]
  db:
    description: Database to work in. Overrides O(login_db).
    type: str
  schema:
    description: Schema to create the extension in, or to move a relocatable extension to.
    type: str
  version:
    description:
      - Version to create, or to update an installed extension to. C(latest) means the
        server's default version.
      - When omitted, a new extension gets the default version and an installed one is left
        at its version.
    type: str
  cascade:
    description: C(CASCADE) - create the extensions it needs, or with O(state=absent) drop the objects that depend on it.
    type: bool
    default: false
  state:
    description: Whether the extension should be installed.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - name: CREATE EXTENSION
    description: PostgreSQL's reference for installing an extension in a database.
    link: https://www.postgresql.org/docs/current/sql-createextension.html
  - name: Pgpool-II online recovery
    description: Why the seed installs pgpool_recovery in template1.
    link: https://www.pgpool.net/docs/latest/en/html/install-pgpool-recovery.html
  - module: community.postgresql.postgresql_ext
'''

EXAMPLES = r'''
- name: pgpool_recovery in template1 on the primary (seed 000)
  pgha.cluster.pg_extension:
    name: pgpool_recovery
    db: template1
  become: true
  become_user: postgres

- name: citext at a given version in its own schema
  pgha.cluster.pg_extension:
    name: citext
    db: app
    schema: ext
    version: "1.6"

- name: Keep hstore at the newest version the server offers
  pgha.cluster.pg_extension:
    name: hstore
    db: app
    version: latest
'''

RETURN = r'''
extension:
  description: Name of the extension.
  returned: always
  type: str
  sample: pgpool_recovery
db:
  description: The database worked in.
  returned: always
  type: str
  sample: template1
state:
  description: Whether the extension is installed after the run.
  returned: always
  type: str
  sample: present
prev_version:
  description: Version installed before the run (null when it was not installed).
  returned: always
  type: str
  sample: "1.5"
version:
  description: Version installed after the run (null when it is not installed).
  returned: always
  type: str
  sample: "1.6"
queries:
  description: Statements executed, in order (in check mode, the statements that would run).
  returned: always
  type: list
  elements: str
  sample: ['CREATE EXTENSION "pgpool_recovery"']
'''
