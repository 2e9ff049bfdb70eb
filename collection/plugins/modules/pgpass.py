# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pgpass: its code is the collection's action plugin and binary
(plugins/action/pgpass.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pgpass
short_description: Manage entries in libpq's .pgpass or Pgpool-II's .pcppass password file
version_added: "0.1.0"
description:
  - Adds, updates or removes password entries, editing the file in place.
  - An entry is identified by its host, port, database (C(.pgpass) only) and user name; a
    matching entry gets its password set on its own line, so order, comments and unrelated
    lines survive. A new entry goes before the first wildcard line that would otherwise match
    first, else at the end.
  - C(:) and C(\) in values are escaped as libpq and the PCP tools read them.
  - Passwords are never shown; the diff shows entries with the password replaced by C(********).
  - New files get mode C(0600). libpq ignores a C(.pgpass) that group or others can read, so the
    module warns when the file is left with such a mode.
  - A line that cannot be read makes the module fail with its line number, leaving the file untouched.
  - O(path) is reached without trusting links a less privileged user made. A symbolic link (on the way
    or as the file itself) is followed only when root or the owner of its target made it, a link to
    nothing only when root made it; any other link is refused, as is anything that is not a regular
    file (a FIFO, a device). The target of a followed link is edited and keeps its owner and group
    (O(owner) and O(group) are not changed through a link).
  - No value may hold a NUL byte or another control character (tab and line breaks aside, which each
    format judges).
  - A static binary; the target needs no Python.
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
    description: Path of the password file (for example C(~postgres/.pgpass) or C(~postgres/.pcppass)).
    type: path
    required: true
    aliases: [dest]
  format:
    description:
      - C(pgpass) is libpq's C(host:port:database:username:password);
        C(pcppass) is Pgpool-II's C(host:port:username:password) for the PCP tools.
    type: str
    choices: [pgpass, pcppass]
    default: pgpass
  entries:
    description: The entries to put in place (or remove, with O(state=absent)).
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: Host name, address or socket directory; C(*) matches any.
        type: str
        default: "*"
      port:
        description: Port; C(*) matches any.
        type: str
        default: "*"
      database:
        description: Database (C(.pgpass) only; must be omitted with O(format=pcppass)); C(*) matches any.
        type: str
        default: "*"
      username:
        description: User name; C(*) matches any.
        type: str
        required: true
        aliases: [user]
      password:
        description:
          - The password. Required with O(state=present).
          - Not logged (no_log). The module masks the value in everything it returns.
        type: str
  state:
    description: Whether the entries should be in the file. Removal ignores the password.
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
    description: Mode of the file (octal string such as C('0600')). Unchanged when omitted; new files get C(0600).
    type: raw
  owner:
    description: Owner of the file (the user whose C(~/.pgpass) it is). Unchanged when omitted.
    type: str
  group:
    description: Group of the file. Unchanged when omitted.
    type: str
seealso:
  - name: The password file
    description: libpq's documentation of .pgpass.
    link: https://www.postgresql.org/docs/current/libpq-pgpass.html
  - name: pcp_common_options
    description: Pgpool-II's .pcppass.
    link: https://www.pgpool.net/docs/latest/en/html/pcp-commands.html
'''

EXAMPLES = r'''
- name: Replication password for repmgr and pg_basebackup
  pgha.cluster.pgpass:
    path: /var/lib/postgresql/.pgpass
    owner: postgres
    group: postgres
    entries:
      - {host: "*", port: 5432, database: replication, username: repl, password: "{{ repl_password }}"}
      - {host: "*", port: 5432, database: repmgr, username: repmgr, password: "{{ repmgr_password }}"}

- name: PCP password for pcp_attach_node and friends
  pgha.cluster.pgpass:
    path: /var/lib/postgresql/.pcppass
    format: pcppass
    owner: postgres
    entries:
      - {host: localhost, port: 9898, username: pgpool, password: "{{ pcp_password }}"}

- name: Forget an entry
  pgha.cluster.pgpass:
    path: /var/lib/postgresql/.pgpass
    state: absent
    entries:
      - {host: "*", port: 5432, database: repmgr, username: repmgr}
'''

RETURN = r'''
entries:
  description: Every entry of the file after the change, without passwords.
  returned: success
  type: list
  elements: dict
  sample: [{line: 1, host: "*", port: "5432", database: replication, username: repl}]
backup_file:
  description: Name of the backup file.
  returned: changed and O(backup=true)
  type: str
'''
