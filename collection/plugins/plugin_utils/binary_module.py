# Copyright: pgha maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind every pgha.cluster module: check the target's platform, then run the binary.

pgha.cluster's modules are static x86_64 Linux executables. Started on any other target they die
with "Exec format error" (or a shell's "cannot execute binary file"), which says nothing about
the cause. This action checks the target first and fails with a message that names the target's
system and architecture instead.

Where the platform comes from, cheapest first:
  1. the ``pgha_cluster_platform`` fact this action left on the host earlier in the run;
  2. gathered facts (``ansible_system`` and ``ansible_architecture``);
  3. one ``uname -sm`` on the target, whose answer is returned as the
     ``pgha_cluster_platform`` fact so later tasks on that host skip it.
Delegated tasks always ask the host they run on (facts belong to the inventory host).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

SUPPORTED_PLATFORMS = frozenset({("Linux", "x86_64")})
PLATFORM_FACT = "pgha_cluster_platform"


def unsupported_message(module, host, system, machine):
    """The failure message for a target the binaries are not built for."""
    return (
        f"{module} cannot run on {host}: the target is {system} {machine}, and pgha.cluster's "
        "modules are static binaries for x86_64 Linux only (no build for "
        f"{system} {machine}). Run this task on an x86_64 Linux host."
    )


class BinaryModuleAction(ActionBase):
    """Runs the task's binary module after checking the target's system and architecture."""

    _supports_check_mode = True
    _supports_async = True

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

        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            # remove a temporary path we created
            self._remove_tmp_path(self._connection._shell.tmpdir)

        if probed and not self._task.delegate_to:
            facts = dict(result.get("ansible_facts") or {})
            facts[PLATFORM_FACT] = {"system": system, "architecture": machine}
            result["ansible_facts"] = facts
        return result

    def _module_label(self):
        action = self._task.action
        return action if "." in action else f"pgha.cluster.{action}"

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
