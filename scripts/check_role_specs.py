#!/usr/bin/env python3
"""Check that each role's meta/argument_specs.yml equals its defaults/main.yml: the same
variable names, and each option's `default` equal to the value in defaults/main.yml.

    .venv/bin/python scripts/check_role_specs.py [role ...]

With no argument, checks every role of the collection. Exit status 1 on a mismatch.
"""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ROLES = sorted(p.name for p in (ROOT / "collection" / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def check(role: str) -> list[str]:
    base = ROOT / "collection" / "roles" / role
    defaults = yaml.safe_load((base / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((base / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"].get("options", {})
    errors = []
    for name in sorted(set(defaults) - set(options)):
        errors.append(f"{role}: {name} is in defaults/main.yml but not in argument_specs")
    for name in sorted(set(options) - set(defaults)):
        if "default" in options[name] or not options[name].get("required"):
            errors.append(f"{role}: {name} is in argument_specs but not in defaults/main.yml")
    for name in sorted(set(options) & set(defaults)):
        if options[name].get("default") != defaults[name]:
            errors.append(f"{role}: {name}: argument_specs default {options[name].get('default')!r}"
                          f" != defaults/main.yml {defaults[name]!r}")
        if not options[name].get("description"):
            errors.append(f"{role}: {name} has no description")
    return errors


def main() -> int:
    errors = [e for role in (sys.argv[1:] or ROLES) for e in check(role)]
    for e in errors:
        print(e)
    if not errors:
        print(f"argument_specs == defaults for {', '.join(sys.argv[1:] or ROLES)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
