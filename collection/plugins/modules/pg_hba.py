# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pg_hba: its code is the collection's action plugin and binary
(plugins/action/pg_hba.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pg_hba
short_description: Manage rules in pg_hba.conf or Pgpool-II's pool_hba.conf
version_added: "0.1.0"
description:
  - Adds, updates or removes client authentication rules, editing the file in place.
  - A rule is identified by its type, databases, users and address (with netmask); a matching
    rule is updated on its own line, so rule order, comments and unrelated lines survive.
  - New rules go at the position given by O(insert).
  - The file is parsed the way PostgreSQL parses it (quoted names, lists, C(+group), C(@file),
    C(/regex), continuation lines, C(include) directives); a line that cannot be parsed makes
    the module fail with its line number, leaving the file untouched.
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
    description: Path of pg_hba.conf (or pool_hba.conf with O(format=pool_hba)).
    type: path
    required: true
    aliases: [dest]
  format:
    description:
      - C(pg_hba) accepts every PostgreSQL connection type and method; C(pool_hba) only what
        Pgpool-II accepts (C(local), C(host), C(hostssl), C(hostnossl)).
    type: str
    choices: [pg_hba, pool_hba]
    default: pg_hba
  rules:
    description:
      - The rules to put in place (or remove, with O(state=absent)).
      - One rule can instead be given with the top-level options O(type), O(databases),
        O(users), O(address), O(netmask), O(method), O(options) and O(comment).
    type: list
    elements: dict
    suboptions:
      type:
        description: Connection type.
        type: str
        required: true
        choices: [local, host, hostssl, hostnossl, hostgssenc, hostnogssenc]
      databases:
        description: Database names or keywords (C(all), C(sameuser), C(samerole), C(replication)); a string or a list.
        type: list
        elements: str
        default: [all]
      users:
        description: User names, C(+group), C(@file), C(/regex) or C(all); a string or a list.
        type: list
        elements: str
        default: [all]
      address:
        description: CIDR address, address (with O(rules[].netmask)), host name, C(.domain), C(samehost), C(samenet) or C(all). Not for C(local).
        type: str
      netmask:
        description: Netmask for an address given without a prefix length.
        type: str
      method:
        description: Authentication method (C(scram-sha-256), C(md5), C(peer), C(trust), C(reject), ...). Required with O(state=present).
        type: str
      options:
        description: Method options, as a dict or as C(name=value) words.
        type: raw
      comment:
        description: A comment written at the end of the line when the rule is added (an existing rule keeps its own comment).
        type: str
      state:
        description: Overrides O(state) for this rule.
        type: str
        choices: [present, absent]
  type:
    description: Connection type of a single rule given at the top level (instead of O(rules)).
    type: str
    choices: [local, host, hostssl, hostnossl, hostgssenc, hostnogssenc]
  databases:
    description: Databases of the single top-level rule.
    type: list
    elements: str
  users:
    description: Users of the single top-level rule.
    type: list
    elements: str
  address:
    description: Address of the single top-level rule.
    type: str
  netmask:
    description: Netmask of the single top-level rule.
    type: str
  method:
    description: Method of the single top-level rule.
    type: str
  options:
    description: Method options of the single top-level rule.
    type: raw
  comment:
    description: Comment of the single top-level rule, written when it is added.
    type: str
  state:
    description: Whether the rules should be in the file.
    type: str
    choices: [present, absent]
    default: present
  insert:
    description:
      - Where a new rule goes. C(before_first_reject) puts it before the first C(reject) rule so
        it can take effect (at the end when there is none).
    type: str
    choices: [end, beginning, before_first_reject]
    default: end
  create:
    description: Create the file when it does not exist.
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: false
  mode:
    description: Mode of the file (octal string such as C('0640')). Unchanged when omitted; new files get C(0600).
    type: raw
  owner:
    description: Owner of the file. Unchanged when omitted.
    type: str
  group:
    description: Group of the file. Unchanged when omitted.
    type: str
seealso:
  - name: The pg_hba.conf file
    description: PostgreSQL's documentation of client authentication rules.
    link: https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
  - name: pool_hba.conf
    description: Pgpool-II's client authentication file, in the same format.
    link: https://www.pgpool.net/docs/latest/en/html/auth-pool-hba-conf.html
  - module: community.postgresql.postgresql_pg_hba
'''

EXAMPLES = r'''
- name: Replication and client access from the cluster's network, as in the seed
  pgha.cluster.pg_hba:
    path: /data1/pgsql/15/data/pg_hba.conf
    rules:
      - {type: host, databases: all, users: all, address: samenet, method: scram-sha-256}
      - {type: host, databases: replication, users: all, address: samenet, method: scram-sha-256}
  register: hba
  notify: Reload postgresql

- name: Pgpool-II clients must use SCRAM
  pgha.cluster.pg_hba:
    path: /etc/pgpool2/pool_hba.conf
    format: pool_hba
    rules:
      - {type: host, databases: all, users: pgpool, address: 0.0.0.0/0, method: scram-sha-256}

- name: Drop a rule
  pgha.cluster.pg_hba:
    path: /data1/pgsql/15/data/pg_hba.conf
    state: absent
    rules:
      - {type: host, databases: all, users: all, address: 0.0.0.0/0}
'''

RETURN = r'''
rules:
  description: The rules asked about as the file has them after the change, in file order (removed rules are absent).
  returned: success
  type: list
  elements: dict
  sample: [{type: host, databases: [all], users: [all], address: samenet, method: scram-sha-256, line: 98}]
reload_required:
  description: Whether the server must reload its configuration for the change to take effect.
  returned: success
  type: bool
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
