# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of pgha.cluster's PostgreSQL modules (login_*, ssl_mode and the TLS files, connect_timeout)."""

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
      - Whether and how to use TLS, with libpq's meaning (rustls with the ring provider inside
        the module binary; no OpenSSL, no libpq). Over a Unix socket TLS is never used, whatever
        this says, as with libpq.
      - V(disable) never uses TLS.
      - V(allow) connects without TLS, and with TLS when the server refuses the login without
        it.
      - V(prefer) uses TLS when the server has it and connects without it when the server has
        none; when the TLS attempt fails (the certificate check, or the server refusing the login
        over TLS) it connects once more without TLS, as libpq does, with a warning when the TLS
        failure was the handshake's.
      - V(require) uses TLS or fails, saying so when the server has no TLS (C(ssl=off)). The
        server certificate is not checked unless O(ca_cert) is given (or
        C(~/.postgresql/root.crt) exists), in which case it is checked as for V(verify-ca), as
        libpq does.
      - V(verify-ca) uses TLS and checks that the server certificate chains to O(ca_cert); its
        names are not checked.
      - V(verify-full) also checks that the certificate names the host connected to
        (O(login_host)) by a DNS name or IP address in its subjectAltName. Unlike libpq, a name
        only in the certificate's Common Name is not accepted.
      - A server certificate that is itself one of the certificates in O(ca_cert) (a self-signed
        certificate given as its own CA) is trusted as it is, within its validity period.
      - Over TLS, a SCRAM password login uses channel binding (SCRAM-SHA-256-PLUS) when the
        server offers it, as libpq does by default.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
    default: prefer
  ca_cert:
    description:
      - PEM file of the CA certificate(s) the server certificate must chain to (libpq's
        C(sslrootcert)), on the host the module runs on. Needed by V(verify-ca) and
        V(verify-full); with V(require), V(prefer) or V(allow) it makes the certificate checked.
      - When not given, C(~/.postgresql/root.crt) of the user the module runs as is used if it
        exists, as libpq does. libpq's special value V(system) is not supported.
    type: path
    aliases: [ssl_rootcert]
  ssl_cert:
    description:
      - PEM file of the client certificate (libpq's C(sslcert)), for C(cert) authentication or
        C(clientcert=verify-full) in C(pg_hba.conf). Give O(ssl_key) with it.
      - When neither O(ssl_cert) nor O(ssl_key) is given, C(~/.postgresql/postgresql.crt) and
        C(~/.postgresql/postgresql.key) of the user the module runs as are used if the
        certificate exists, as libpq does.
    type: path
  ssl_key:
    description:
      - PEM file of the private key of O(ssl_cert) (libpq's C(sslkey)), in PKCS#8, RSA or EC
        form, not encrypted (libpq's C(sslpassword) is not supported).
      - As libpq, the file is refused when it has group or world access and belongs to the
        user the module runs as (it must be C(0600) or less), or has more than group read and
        belongs to root (C(0640) or less).
    type: path
  connect_timeout:
    description: Seconds to wait for the connection and the login together.
    type: int
    default: 10
"""
