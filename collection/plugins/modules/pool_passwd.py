# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of pgha.cluster.pool_passwd: its code is the collection's action plugin and binary
(plugins/action/pool_passwd.py, files/pgha)."""

from __future__ import annotations

DOCUMENTATION = r'''
module: pool_passwd
short_description: Manage a user's password in Pgpool-II's pool_passwd or pcp.conf
version_added: "0.1.0"
description:
  - Sets or removes one user's entry in Pgpool-II's C(pool_passwd), as C(pg_md5 -m -u) (md5),
    C(pg_enc -m) (AES) or as C(TEXT) clear text would write it; or, with O(format=pcp), a PCP
    user's C(user:md5hex(password)) line in C(pcp.conf), as C(pg_md5 PASSWORD) prints it.
  - Idempotent by content, not by text - an existing secret is decrypted (AES) or recomputed
    (md5) and compared, so an unchanged password reports no change; an entry of another kind
    than O(encryption) is rewritten.
  - With SCRAM backends Pgpool-II needs the clear password, so C(aes) (the default) or C(text)
    must be used there; C(md5) only works with md5 authentication.
  - Secrets are never shown; the diff shows every entry with its secret replaced by C(********).
  - Other lines, and a user-mapping tail (C(:backend_user:backend_secret)), are kept.
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
    description: Path of pool_passwd (or of pcp.conf with O(format=pcp)).
    type: path
    required: true
    aliases: [dest]
  format:
    description: C(pool_passwd) for Pgpool-II's pool_passwd, C(pcp) for pcp.conf.
    type: str
    choices: [pool_passwd, pcp]
    default: pool_passwd
  username:
    description: The user name.
    type: str
    required: true
    aliases: [user]
  password:
    description:
      - The clear-text password. Required with O(state=present).
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
  encryption:
    description:
      - How the password is stored in pool_passwd. C(aes) encrypts it with the key in
        O(key_file) (byte-compatible with C(pg_enc)); C(md5) stores md5(password + username);
        C(text) stores C(TEXT) + the password.
      - With O(format=pcp) only C(md5) is possible (and is what is used when omitted).
      - Defaults to C(aes) for pool_passwd.
    type: str
    choices: [md5, aes, text]
  key_file:
    description:
      - The Pgpool-II key file (its first line is the key) for C(aes) entries.
      - Defaults to C(~/.pgpoolkey) of O(pgpool_user), the file Pgpool-II itself reads.
    type: path
  pgpool_user:
    description: The user Pgpool-II runs as; its home holds the default O(key_file).
    type: str
    default: postgres
  state:
    description: Whether the user's entry should be in the file.
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
    description: Owner of the file. Unchanged when omitted.
    type: str
  group:
    description: Group of the file. Unchanged when omitted.
    type: str
seealso:
  - name: pool_passwd
    description: Pgpool-II's password file and the pool_passwd parameter naming it.
    link: https://www.pgpool.net/docs/latest/en/html/runtime-config-connection.html#GUC-POOL-PASSWD
  - name: pg_enc
    description: Pgpool-II's tool for AES-encrypted entries, whose format the module writes.
    link: https://www.pgpool.net/docs/latest/en/html/pg-enc.html
  - module: pgha.cluster.pgpass
'''

EXAMPLES = r'''
- name: The health-check/sr-check user, AES-encrypted with pgpool's key
  pgha.cluster.pool_passwd:
    path: /etc/pgpool2/pool_passwd
    username: pgpool
    password: "{{ pgpool_password }}"
    encryption: aes
    key_file: /var/lib/postgresql/.pgpoolkey
    owner: postgres

- name: PCP user in pcp.conf
  pgha.cluster.pool_passwd:
    path: /etc/pgpool2/pcp.conf
    format: pcp
    username: pgpool
    password: "{{ pcp_password }}"

- name: Remove a user
  pgha.cluster.pool_passwd:
    path: /etc/pgpool2/pool_passwd
    username: olduser
    state: absent
'''

RETURN = r'''
users:
  description: Every entry of the file after the change, without secrets.
  returned: success
  type: list
  elements: dict
  sample: [{line: 1, username: pgpool, encryption: aes}]
backup_file:
  description: Name of the backup file.
  returned: changed and O(backup=true)
  type: str
'''
