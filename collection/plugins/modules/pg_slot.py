# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_slot: its code is the collection's action plugin and binary
(plugins/action/pg_slot.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_slot
short_description: Manage a PostgreSQL replication slot
version_added: "0.1.0"
description:
  - Creates or drops a physical or logical replication slot with
    C(pg_create_physical_replication_slot()), C(pg_create_logical_replication_slot()) and
    C(pg_drop_replication_slot()); the slot name and plugin are bound parameters.
  - A slot that exists with another type or plugin is an error (drop it to re-create it).
  - A slot in use (C(active_pid) set) is not dropped; the module fails naming the process.
  - Physical slots can be made on a standby too (cascading replication); a logical slot
    needs a primary before PostgreSQL 16.
  - A static binary; the target needs neither Python nor libpq.
author: pgha maintainers (!UNKNOWN)
extends_documentation_fragment: [pgha.cluster.postgres]
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the target.
    support: full
    details: Nothing is executed; RV(queries) lists the statement that would run.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: full
  platform:
    description: Target systems the module runs on (a static x86_64 Linux binary; other targets fail with a message naming their platform).
    support: full
    platforms: posix
options:
  name:
    description: Name of the slot - lower-case letters, digits and underscores, at most 63.
    type: str
    required: true
    aliases: [slot_name]
  slot_type:
    description: Kind of slot.
    type: str
    choices: [physical, logical]
    default: physical
  output_plugin:
    description: Output plugin of a logical slot.
    type: str
    default: test_decoding
    aliases: [plugin]
  immediately_reserve:
    description: For a physical slot, reserve WAL at once instead of at the first connection of a standby.
    type: bool
    default: false
  state:
    description: Whether the slot should exist.
    type: str
    choices: [present, absent]
    default: present
  db:
    description: Database a logical slot belongs to. Overrides O(login_db).
    type: str
seealso:
  - name: Replication slots
    description: What physical replication slots keep on the primary, and why.
    link: https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS
  - module: pgha.cluster.pg_basebackup_standby
  - module: community.postgresql.postgresql_slot
'''

EXAMPLES = r'''
- name: A slot per standby on the primary, as the seed's pg_basebackup -C -S does
  pgha.cluster.pg_slot:
    name: "{{ item }}"
    immediately_reserve: true
  loop: [postgres2, postgres3]
  become: true
  become_user: postgres

- name: A logical slot for a CDC consumer
  pgha.cluster.pg_slot:
    name: cdc
    slot_type: logical
    output_plugin: pgoutput
    db: app

- name: Remove the slot of a retired standby
  pgha.cluster.pg_slot:
    name: postgres3
    state: absent
'''

RETURN = r'''
slot:
  description: Name of the slot.
  returned: always
  type: str
  sample: postgres2
slot_type:
  description: Type of the slot.
  returned: always
  type: str
  sample: physical
state:
  description: Whether the slot exists after the run.
  returned: always
  type: str
  sample: present
database:
  description: Database of an existing logical slot.
  returned: when the slot existed and is logical
  type: str
queries:
  description: Statements executed (in check mode, the statement that would run).
  returned: always
  type: list
  elements: str
  sample: ["SELECT pg_catalog.pg_create_physical_replication_slot('postgres2', true)"]
'''
