# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of pgha.cluster's PostgreSQL modules (login_*, ssl_mode, connect_timeout)."""

from __future__ import annotations


class ModuleDocFragment:
    """Used as extends_documentation_fragment: [pgha.cluster.postgres]."""

    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host name or address of the server, or the directory of its Unix socket (a value
        starting with C(/)).
      - Over the socket, a module run with C(become_user=postgres) logs in by peer
        authentication, as C(psql) does.
    type: str
    default: /var/run/postgresql
    aliases: [login_unix_socket]
  login_port:
    description: Port of the server (over a socket, the number in the socket's file name C(.s.PGSQL.<port>)).
    type: int
    default: 5432
  login_user:
    description: Role to log in as.
    type: str
    default: postgres
  login_password:
    description:
      - Password of O(login_user).
      - When not given, the password is looked up in the C(.pgpass) file of the user the
        module runs as (or the file named by C($PGPASSFILE)), line by line as libpq does; a
        file with group or world access is skipped with a warning.
      - Not logged (no_log). The module masks the value in everything it returns.
    type: str
  login_db:
    description: Database to connect to.
    type: str
    default: postgres
  ssl_mode:
    description:
      - Whether to use TLS. These modules link no TLS library (they stay small static
        binaries without OpenSSL), so C(disable), C(allow) and C(prefer) all connect without
        TLS, and C(require) fails with a message saying so. Use the Unix socket, the
        cluster's own network, or an SSH tunnel.
    type: str
    choices: [disable, allow, prefer, require]
    default: prefer
  connect_timeout:
    description: Seconds to wait for the connection and the login together.
    type: int
    default: 10
"""
