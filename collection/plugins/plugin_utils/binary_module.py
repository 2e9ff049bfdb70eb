# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind every pgha.cluster module: check the target's platform, then run the module
in the collection's one binary (``files/pgha``, every module in it: ``pgha <module> ...``).

Platform. pgha.cluster's modules are a static x86_64 Linux executable. Started on any other target
it dies with "Exec format error", which says nothing about the cause, so this action checks the
target first and fails with a message that names the target's system and architecture instead.
Where the platform comes from, cheapest first:
  1. the ``pgha_cluster_platform`` fact this action left on the host earlier in the run;
  2. gathered facts (``ansible_system`` and ``ansible_architecture``);
  3. one ``uname -sm`` on the target, whose answer is returned as the
     ``pgha_cluster_platform`` fact so later tasks on that host skip it.
Delegated tasks always ask the host they run on (facts belong to the inventory host).

Fast path (the default). The binary is shipped once per host and version into a cache
directory named by its sha256, ``<cache>/<sha256>/pgha`` (cache ``/var/cache/pgha/modules``, or
the ``pgha_cluster_module_cache`` variable), and each task is ONE remote command: a shell snippet
that checks the cache and runs ``pgha <module> -`` with the module's arguments (the JSON Ansible
would write to an args file: the user's options plus ``_ansible_check_mode``, ``_ansible_diff``,
``_ansible_no_log``, ...) on standard input. No temporary directory, no copy, no args file.
The snippet runs the binary only when every directory from ``/`` down to the entry is a real
directory (not a link) owned by root and not writable by group or others (an ancestor may be
sticky, as /tmp is), the binary is a regular root-owned file not writable by others, and its
sha256 is the one its directory is named after. Otherwise it runs nothing and says why:
  - missing: installed (as root: the task's become user when that is root, else the connection
    user when that is root), then run; when nobody here is root, Ansible's standard path runs it;
  - a wrong entry (hash, owner, mode or a link in ``<cache>/<sha256>``, inside a root-only
    directory): replaced as root, or the task fails naming it;
  - an unsafe directory above the entry (a link, not root's, writable by others): the task fails
    naming it; nothing is created or run through it.
The install command gets the binary on standard input, writes it into a fresh root-owned
directory, checks its hash there, and renames that directory into place (under ``flock``).
Directories are 0755 and the binary 0755, so a non-root become user (``become_user: postgres``)
can run it.

Standard path (fallback): async tasks, connections without standard input for commands
(``has_pipelining`` false), become plugins that cannot pipe (or a local become with a password
prompt), ``pgha_cluster_fast_path: false``, and a target where the binary is not cached and
nobody can install it go through Ansible's own binary-module path (``_execute_module``: temp
dir, copy, args file), with the same binary, which reads the module's name from the
``_ansible_module_name`` of the args file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex

from ansible.errors import AnsibleError
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

try:  # ansible-core 2.19+
    from ansible.executor.module_common import _BuiltModule
except ImportError:  # pragma: no cover
    _BuiltModule = None

display = Display()

SUPPORTED_PLATFORMS = frozenset({("Linux", "x86_64")})
PLATFORM_FACT = "pgha_cluster_platform"
DEFAULT_CACHE = "/var/cache/pgha/modules"
BINARY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "files", "pgha")
PROFILE = "legacy"  # what ansible-core uses for binary modules

# Exit statuses of the remote snippets (the module itself exits 0 or 1).
RC_NO_FAST_PATH = 96  # no stat/sha256sum, or (install) not root: use the standard path
RC_MISSING = 97  # nothing cached yet
RC_BAD_ENTRY = 98  # <cache>/<sha256> or the binary is not as installed: replace it (root) or fail
RC_UNSAFE = 99  # a directory on the way is a link, not root's, or writable by others: fail
MARK = "PGHA-CACHE"


def unsupported_message(module, host, system, machine):
    """The failure message for a target the binaries are not built for."""
    return (
        f"{module} cannot run on {host}: the target is {system} {machine}, and pgha.cluster's "
        "modules are static binaries for x86_64 Linux only (no build for "
        f"{system} {machine}). Run this task on an x86_64 Linux host."
    )


def binary_sha256(path=BINARY):
    """The sha256 of the binary: from ``pgha.sha256`` beside it when that is newer than the binary
    (``make modules`` writes it), else computed."""
    side = path + ".sha256"
    try:
        if os.stat(side).st_mtime >= os.stat(path).st_mtime:
            with open(side, encoding="ascii") as f:
                digest = f.read().split()[0]
            if len(digest) == 64:
                return digest
    except (OSError, IndexError):
        pass
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def chain_of(cache):
    """Every directory from / down to ``cache`` (absolute, normalised)."""
    if not cache.startswith("/"):
        raise AnsibleError(f"pgha_cluster_module_cache must be an absolute path, got {cache!r}")
    parts = [p for p in os.path.normpath(cache).split("/") if p]
    return ["/"] + ["/" + "/".join(parts[:i + 1]) for i in range(len(parts))]


def _safe_test(uid, mode, kind, sticky_ok=False):
    """Shell test on ``$uid`` and ``$mode`` (hex, as ``stat -c %f`` gives it): owned by root, of
    the kind (16384 directory, 32768 regular file), not writable by group or others (or, for an
    ancestor directory, sticky like /tmp)."""
    m = f"0x${mode}"
    writable = f"[ $(( {m} & 18 )) -eq 0 ]"
    if sticky_ok:
        writable = f"{{ {writable} || [ $(( {m} & 512 )) -ne 0 ]; }}"
    return f'[ "${uid}" = 0 ] && [ $(( {m} & 61440 )) -eq {kind} ] && {writable}'


def describe(why):
    """A snippet's ``unsafe|bad <k> <uid> <hex mode> <path>`` in words."""
    words = why.split(" ", 4)
    if len(words) != 5 or words[0] not in ("unsafe", "bad"):
        return why
    _, _, uid, mode, path = words
    try:
        mode_bits = int(mode, 16)
    except ValueError:
        return why
    kind = mode_bits & 0o170000
    if kind == 0o120000:
        what = "is a link"
    elif kind not in (0o040000, 0o100000):
        what = "is neither a directory nor a regular file"
    elif uid != "0":
        what = f"is not root's (owner uid {uid})"
    elif mode_bits & 0o022:
        what = f"is writable by others (mode {mode_bits & 0o7777:o})"
    else:
        what = "is not what was installed"
    return f"{path} {what}"


def run_script(cache, digest, module, env):
    """The one command of a task: check the chain and the binary, then run the module."""
    chain = chain_of(cache)
    entry = f"{chain[-1].rstrip('/')}/{digest}"
    binary = f"{entry}/pgha"
    paths = " ".join(shlex.quote(p) for p in [*chain, entry, binary])
    n = len(chain)
    return (
        f"command -v stat >/dev/null && command -v sha256sum >/dev/null || {{ echo '{MARK} no stat or sha256sum'; exit {RC_NO_FAST_PATH}; }}\n"
        f"v=$(LC_ALL=C stat -c '%u %f %n' -- {paths} 2>/dev/null | {{ k=0; while read -r u f p; do k=$((k+1)); "
        f"if [ $k -lt {n} ]; then {_safe_test('u', 'f', 16384, True)} || {{ echo \"unsafe $k $u $f $p\"; exit; }}; "
        f"elif [ $k -eq {n} ]; then {_safe_test('u', 'f', 16384)} || {{ echo \"unsafe $k $u $f $p\"; exit; }}; "
        f"elif [ $k -eq {n + 1} ]; then {_safe_test('u', 'f', 16384)} || {{ echo \"bad $k $u $f $p\"; exit; }}; "
        f"else {_safe_test('u', 'f', 32768)} || {{ echo \"bad $k $u $f $p\"; exit; }}; fi; "
        f"done; [ $k -eq {n + 2} ] && echo ok || echo \"missing $k\"; }})\n"
        f"case $v in ok) ;; missing*) echo \"{MARK} $v\"; exit {RC_MISSING};; bad*) echo \"{MARK} $v\"; exit {RC_BAD_ENTRY};; "
        f"*) echo \"{MARK} $v\"; exit {RC_UNSAFE};; esac\n"
        f"set -- $(sha256sum < {shlex.quote(binary)})\n"
        f"[ \"$1\" = {digest} ] || {{ echo \"{MARK} bad hash $1\"; exit {RC_BAD_ENTRY}; }}\n"
        f"{env + ' ' if env else ''}{shlex.quote(binary)} {module} -"
    )


def install_script(cache, digest):
    """As root, with the binary on standard input: create what is missing of the cache, write the
    binary into a fresh directory, check its hash, rename the directory into place."""
    chain = chain_of(cache)
    root = chain[-1]
    entry = f"{root.rstrip('/')}/{digest}"
    q, qe = shlex.quote, shlex.quote(entry)
    lines = ["umask 022",
             f"[ \"$(id -u)\" = 0 ] || {{ echo '{MARK} not root'; exit {RC_NO_FAST_PATH}; }}"]
    for i, path in enumerate(chain):
        p = q(path)
        lines += [
            f"[ -e {p} ] || [ -L {p} ] || mkdir -m 0755 {p} || {{ echo \"{MARK} cannot create {path}\"; exit {RC_UNSAFE}; }}",
            f"read -r u f x <<EOF\n$(LC_ALL=C stat -c '%u %f %n' -- {p})\nEOF",
            f"{_safe_test('u', 'f', 16384, i < len(chain) - 1)} || {{ echo \"{MARK} unsafe 0 $u $f {path}\"; exit {RC_UNSAFE}; }}",
        ]
    lines += [
        f"exec 9>>{q(root + '/.lock')} && {{ ! command -v flock >/dev/null || flock 9; }}",
        f"good() {{ [ ! -L {qe} ] && [ -d {qe} ] && [ ! -L {qe}/pgha ] && [ -f {qe}/pgha ] "
        f"&& [ \"$(LC_ALL=C stat -c '%u %f' -- {qe})\" = '0 41ed' ] && [ \"$(LC_ALL=C stat -c '%u %f' -- {qe}/pgha)\" = '0 81ed' ] "
        f"&& set -- $(sha256sum < {qe}/pgha) && [ \"$1\" = {digest} ]; }}",
        f"if good; then cat >/dev/null; echo '{MARK} already installed'; exit 0; fi",
        f"t=$(mktemp -d {q(root + '/.new.XXXXXX')}) || exit 95",
        f"cat > \"$t/pgha\" && chmod 0755 \"$t/pgha\" \"$t\" || {{ rm -rf -- \"$t\"; echo '{MARK} cannot write the binary'; exit 95; }}",
        f"set -- $(sha256sum < \"$t/pgha\")",
        f"[ \"$1\" = {digest} ] || {{ rm -rf -- \"$t\"; echo \"{MARK} the copy has sha256 $1\"; exit 95; }}",
        f"if [ -e {qe} ] || [ -L {qe} ]; then rm -rf -- {qe}; fi",
        f"mv -T -- \"$t\" {qe} || {{ rm -rf -- \"$t\"; echo '{MARK} cannot rename into place'; exit 95; }}",
        f"echo '{MARK} installed'",
    ]
    return "\n".join(lines)


def _status(res):
    """(rc, the snippet's message or None when the module itself answered)."""
    rc = res.get("rc")
    out = res.get("stdout") or ""
    for line in out.splitlines():
        if line.startswith(MARK + " "):
            return rc, line[len(MARK) + 1:]
    return rc, None


class BinaryModuleAction(ActionBase):
    """Runs the task's module in the collection's binary after checking the target's system and
    architecture."""

    _supports_check_mode = True
    _supports_async = True
    MODULE = None  # the module's name (each generated action sets it)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        platform, probed, error = self._target_platform(task_vars)
        if error:
            result.update(failed=True, msg=error)
            return result
        system, machine = platform
        if (system, machine) not in SUPPORTED_PLATFORMS:
            host = self._task.delegate_to or task_vars.get("inventory_hostname", "the target")
            result.update(failed=True, msg=unsupported_message(self._module_label(), host, system, machine),
                          target_system=system, target_architecture=machine)
            return result
        if not os.path.isfile(BINARY):
            result.update(failed=True, msg=f"{self._module_label()}: the collection has no module binary at {BINARY} "
                                           "(build it with `make modules`)")
            return result

        wrap_async = self._task.async_val and not self._connection.has_native_async
        fast = None
        why = self._fast_path_blocker(task_vars, wrap_async)
        if why is None:
            fast = self._run_fast(task_vars)
            if fast is None:
                why = "the binary is not cached on the target and no task there runs as root to install it"
        if fast is not None:
            result = merge_hash(result, fast)
        else:
            display.vvv(f"{self._module_label()}: Ansible's standard binary-module path ({why})")
            result = merge_hash(result, self._execute_module(module_name=self._fqcn(), task_vars=task_vars,
                                                             wrap_async=wrap_async))
            if not wrap_async:
                # remove a temporary path we created
                self._remove_tmp_path(self._connection._shell.tmpdir)

        if probed and not self._task.delegate_to:
            facts = dict(result.get("ansible_facts") or {})
            facts[PLATFORM_FACT] = {"system": system, "architecture": machine}
            result["ansible_facts"] = facts
        return result

    # -- names ---------------------------------------------------------------------------------

    def _leaf(self):
        return self.MODULE or self._task.action.rsplit(".", 1)[-1]

    def _fqcn(self):
        return f"pgha.cluster.{self._leaf()}"

    def _module_label(self):
        action = self._task.action
        return action if "." in action else f"pgha.cluster.{action}"

    # -- the fast path -------------------------------------------------------------------------

    def _var(self, task_vars, name, default):
        if self._task.delegate_to:
            delegated = (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to) or {}
            value = delegated.get(name, task_vars.get(name, default))
        else:
            value = task_vars.get(name, default)
        return self._templar.template(value) if isinstance(value, str) else value

    def _fast_path_blocker(self, task_vars, wrap_async):
        """Why the fast path cannot serve this task, or None."""
        if not boolean(self._var(task_vars, "pgha_cluster_fast_path", True), strict=False):
            return "pgha_cluster_fast_path is false"
        if self._task.async_val or wrap_async:
            return "an async task"
        conn = self._connection
        if not getattr(conn, "has_pipelining", False):
            return f"the {conn.transport} connection cannot pass standard input to a command"
        become = conn.become
        if become is not None:
            if not getattr(become, "pipelining", False):
                return f"the {become.name} become plugin cannot pass standard input through"
            if conn.transport.endswith("local") and become.expect_prompt():
                return "a local become with a password prompt"
        return None

    def _run_fast(self, task_vars):
        """The task's result through the cache, or None when the standard path must run it."""
        cache = self._var(task_vars, "pgha_cluster_module_cache", DEFAULT_CACHE)
        digest = binary_sha256()
        module_args = dict(self._task.args)
        self._update_module_args(self._fqcn(), module_args, task_vars)
        payload = json.dumps(module_args, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)).encode()
        command = run_script(cache, digest, self._leaf(), self._compute_environment_string())

        res = self._low_level_execute_command(command, sudoable=True, in_data=payload)
        rc, why = _status(res)
        if why is not None and rc in (RC_MISSING, RC_BAD_ENTRY):
            installed, install_rc, install_why = self._install(cache, digest)
            if installed:
                res = self._low_level_execute_command(command, sudoable=True, in_data=payload)
                rc, why = _status(res)
            elif rc == RC_MISSING and install_why is None:
                return None
            else:
                return self._cache_failure(cache, digest, install_why or why, rc if install_why is None else install_rc)
        if why is not None:
            if rc in (RC_NO_FAST_PATH, RC_MISSING):
                return None
            return self._cache_failure(cache, digest, why, rc)
        data = self._parse_returned_data(res, PROFILE)
        return self._tidy(data)

    def _install(self, cache, digest):
        """(installed, rc, why not): installs the binary as root. why is None when no one here
        is root (the standard path may run the task instead)."""
        become = self._connection.become
        become_user = self.get_become_option("become_user") if become is not None else None
        as_root_by_become = bool(become is not None and become_user in (None, "", "root"))
        with open(BINARY, "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != digest:
            raise AnsibleError(f"{BINARY}: its sha256 is not the one in {BINARY}.sha256 (rebuild with `make modules`)")
        display.vvv(f"{self._module_label()}: installing the module binary into {cache}/{digest}")
        res = self._low_level_execute_command(install_script(cache, digest), sudoable=as_root_by_become, in_data=data)
        rc, why = _status(res)
        if rc == 0:
            return True, rc, None
        if rc == RC_NO_FAST_PATH:
            return False, rc, None
        return False, rc, why or (res.get("stderr") or "").strip() or f"exit status {rc}"

    def _cache_failure(self, cache, digest, why, rc):
        entry = f"{cache.rstrip('/')}/{digest}"
        if rc == RC_UNSAFE:
            advice = ("a directory on the way to the module cache must be a real directory (not a link) owned by root "
                      "and not writable by others (an ancestor may be sticky, as /tmp is); nothing is created or run "
                      "through it. Remove or fix it (as root), or set pgha_cluster_module_cache")
        else:
            advice = (f"the cached module binary {entry}/pgha is not the one this collection ships (hash, owner, mode or "
                      "a link), it is not run, and it could not be replaced here. Run a pgha.cluster task on this host "
                      "as root (become) to replace it, or remove it as root")
        return {"failed": True, "msg": f"{self._module_label()}: {describe(why)}: {advice}.", "module_cache": entry}

    def _tidy(self, data):
        """What ActionBase._execute_module does to a module's answer after parsing it."""
        data.pop("_ansible_suppress_tmpdir_delete", None)
        remove_internal_keys(data)
        for key in ("stdout", "stderr"):
            if key in data and f"{key}_lines" not in data:
                data[f"{key}_lines"] = (data.get(key) or "").splitlines()
        return data

    # -- the standard path ---------------------------------------------------------------------

    def _configure_module(self, module_name, module_args, task_vars):
        """This task's module is the collection's binary (it reads the module's name from the args
        file); anything else (async_wrapper) as Ansible does it."""
        if module_name.rsplit(".", 1)[-1] == self._leaf() and _BuiltModule is not None:
            bits = _BuiltModule(b_module_data=b"", module_style="binary", shebang=None, serialization_profile=PROFILE)
            return bits, BINARY
        return super()._configure_module(module_name, module_args, task_vars)

    # -- the platform --------------------------------------------------------------------------

    def _target_platform(self, task_vars):
        """Returns ((system, machine), probed, error): probed is True when uname was run."""
        if not self._task.delegate_to:
            facts = task_vars.get("ansible_facts") or {}
            known = facts.get(PLATFORM_FACT)
            if isinstance(known, dict) and known.get("system") and known.get("architecture"):
                return (known["system"], known["architecture"]), False, None
            if facts.get("system") and facts.get("architecture"):
                return (facts["system"], facts["architecture"]), False, None

        res = self._low_level_execute_command("uname -sm", sudoable=False)
        words = (res.get("stdout") or "").split()
        if res.get("rc") != 0 or len(words) != 2:
            detail = (res.get("stderr") or res.get("stdout") or "").strip() or f"exit status {res.get('rc')}"
            return None, False, (
                f"{self._module_label()} needs an x86_64 Linux target, and `uname -sm` on the target "
                f"did not say what it is ({detail}); pgha.cluster's modules are static x86_64 Linux binaries."
            )
        return (words[0], words[1]), True, None
