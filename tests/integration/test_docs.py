"""Every module has docs (a documentation-only stub plugins/modules/<name>.py) whose options are
exactly the parameters the binary's module accepts (`pgha <name> --describe`), secret options say
so, and ansible-doc renders them from the collection.

Secret options: the binary's Spec lists them in NO_LOG, and `--describe` gives each parameter's
`no_log`. The docs carry no `no_log` key (ansible-test's docs schema rejects it); instead the
description of each such option says NO_LOG_SENTENCE, and only theirs does. An option whose name
looks secret (SECRET_WORDS) must be no_log in the binary unless NOT_SECRET says why not.
"""

import ast
import json
import re
import subprocess

import pytest
import yaml

from conftest import MODULE_BIN, MODULES, ROOT, VENV_BIN

MODULE_DIR = ROOT / "collection/plugins/modules"
FRAGMENT_DIR = ROOT / "collection/plugins/doc_fragments"
BINARIES = MODULES
NO_LOG_SENTENCE = "Not logged (no_log)."
SECRET_WORDS = ("password", "secret", "key")
# (module, option) -> why an option with a secret-looking name holds no secret.
NOT_SECRET = {
    ("pg_role", "no_password_changes"): "a boolean",
    ("pool_passwd", "key_file"): "the path of the pgpoolkey file, not the key",
    # "*": every module that has the option (here the shared connection options).
    ("*", "ssl_key"): "the path of the TLS client key file, not the key",
}


def says_no_log(option: dict) -> bool:
    description = option.get("description", "")
    return NO_LOG_SENTENCE in " ".join(description if isinstance(description, list) else [description])


def no_log_problems(name: str, options: dict, described: list[dict]) -> list[str]:
    """What the docs' secret-option sentences get wrong against the binary's --describe."""
    problems = []
    for p in described:
        option, secret_name = options[p["name"]], any(w in p["name"] for w in SECRET_WORDS)
        if "no_log" in option:
            problems.append(f"{p['name']}: has a no_log key (the docs schema has none; say {NO_LOG_SENTENCE!r})")
        if p["no_log"] and not says_no_log(option):
            problems.append(f"{p['name']}: no_log in the binary, its description lacks {NO_LOG_SENTENCE!r}")
        if not p["no_log"] and says_no_log(option):
            problems.append(f"{p['name']}: its description says {NO_LOG_SENTENCE!r}, the binary does not mask it")
        if secret_name and not p["no_log"] and not {(name, p["name"]), ("*", p["name"])} & NOT_SECRET.keys():
            problems.append(f"{p['name']}: looks secret but the binary does not mark it no_log "
                            "(add it to the Spec's NO_LOG, or to NOT_SECRET with the reason)")
        # Suboptions: the binary masks NO_LOG names at any depth, but --describe lists only the
        # top level, so a secret-looking suboption must at least say it is not logged.
        for sub_name, sub in (option.get("suboptions") or {}).items():
            if "no_log" in sub:
                problems.append(f"{p['name']}.{sub_name}: has a no_log key")
            if any(w in sub_name for w in SECRET_WORDS) and not says_no_log(sub):
                problems.append(f"{p['name']}.{sub_name}: looks secret, its description lacks {NO_LOG_SENTENCE!r}")
    return problems


def fragment_texts(documentation: dict) -> list[str]:
    """The DOCUMENTATION text of each pgha.cluster doc fragment a module's docs extend."""
    texts = []
    for fragment in documentation.get("extends_documentation_fragment", []):
        namespace, collection, fragment_name = fragment.split(".")
        assert (namespace, collection) == ("pgha", "cluster"), f"{fragment}: not a fragment of this collection"
        scope: dict = {}
        exec((FRAGMENT_DIR / f"{fragment_name}.py").read_text(), scope)  # noqa: S102 (our own file)
        texts.append(scope["ModuleDocFragment"].DOCUMENTATION)
    return texts


def module_options(documentation: dict) -> dict:
    """The options as ansible-doc shows them: the doc fragments' merged with the module's own."""
    options = {}
    for text in fragment_texts(documentation):
        options.update(yaml.safe_load(text).get("options", {}))
    options.update(documentation.get("options", {}))
    return options


def stub_strings(name: str) -> dict:
    """DOCUMENTATION, EXAMPLES and RETURN of a module's stub, as the strings they are."""
    doc_file = MODULE_DIR / f"{name}.py"
    assert doc_file.exists(), f"{name} has no docs stub"
    tree = ast.parse(doc_file.read_text())
    return {n.targets[0].id: n.value.value for n in tree.body
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)}


def load_documentation(name: str) -> tuple[dict, dict]:
    docs = stub_strings(name)
    documentation = yaml.safe_load(docs["DOCUMENTATION"])
    return docs, documentation


def test_binary_has_exactly_the_documented_modules():
    listed = subprocess.run([str(MODULE_BIN), "--list"], capture_output=True, text=True, check=True).stdout.split()
    assert sorted(listed) == BINARIES


@pytest.mark.parametrize("name", BINARIES)
def test_docs_match_binary(name):
    docs, documentation = load_documentation(name)
    assert documentation["module"] == name
    options = module_options(documentation)
    described = json.loads(subprocess.run([str(MODULE_BIN), name, "--describe"], capture_output=True, text=True,
                                          check=True).stdout)
    assert sorted(options) == sorted(p["name"] for p in described), f"{name}: docs and binary disagree"
    for p in described:
        doc_aliases = sorted(options[p["name"]].get("aliases", []))
        assert doc_aliases == sorted(p["aliases"]), f"{name}.{p['name']} aliases"
    problems = no_log_problems(name, options, described)
    assert not problems, f"{name}: " + "; ".join(problems)
    for key in ("EXAMPLES", "RETURN"):
        assert docs.get(key), f"{name} lacks {key}"
    assert f"pgha.cluster.{name}" in str(docs["EXAMPLES"]), "EXAMPLES use the FQCN"


def test_no_log_check_catches_mistakes():
    """The secret-option check itself: each kind of mistake is reported."""
    described = [{"name": "login_password", "aliases": [], "no_log": True},
                 {"name": "api_key", "aliases": [], "no_log": False},
                 {"name": "user", "aliases": [], "no_log": False}]
    good = {"login_password": {"description": ["Password.", "Not logged (no_log). Masked."]},
            "api_key": {"description": "A key."}, "user": {"description": "A user."}}
    assert no_log_problems("m", good, described) == [
        "api_key: looks secret but the binary does not mark it no_log (add it to the Spec's NO_LOG, or to "
        "NOT_SECRET with the reason)"]
    bad = {"login_password": {"description": "Password.", "no_log": True},
           "api_key": {"description": "A key."},
           "user": {"description": "Not logged (no_log).",
                    "suboptions": {"password": {"description": "Its password."}}}}
    problems = no_log_problems("m", bad, described)
    assert [p.split(":")[0] for p in problems] == ["login_password", "login_password", "api_key", "user",
                                                   "user.password"], problems


@pytest.fixture(scope="module")
def rendered(ansible_env):
    """`ansible-doc` of every module in one run (one Python start instead of one per module):
    stderr, and each module's section of the text by name."""
    r = subprocess.run([str(VENV_BIN / "ansible-doc"), *(f"pgha.cluster.{n}" for n in BINARIES)], env=ansible_env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    parts = re.split(r"^> MODULE pgha\.cluster\.(\w+) ", r.stdout, flags=re.M)
    return r.stderr, dict(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("name", BINARIES)
def test_ansible_doc_renders(name, rendered):
    stderr, sections = rendered
    complaints = [line for line in stderr.splitlines() if re.search(rf"\bpgha\.cluster\.{name}\b", line)]
    assert not complaints, complaints
    assert name in sections, f"ansible-doc shows no docs of {name}: {stderr}"
    text = " ".join(sections[name].split())
    assert "OPTIONS" in text
    # what users read: every "not logged" sentence of the docs (and of the fragments they use) shows
    _, documentation = load_documentation(name)
    docs = " ".join(" ".join([(MODULE_DIR / f"{name}.py").read_text(), *fragment_texts(documentation)]).split())
    assert text.count(NO_LOG_SENTENCE) == docs.count(NO_LOG_SENTENCE)


@pytest.mark.parametrize("name", BINARIES)
def test_bad_input_is_a_json_failure(name, tmp_path):
    """Unknown parameters, a missing args file and non-JSON args all fail with JSON, exit 1."""
    binary = [str(MODULE_BIN), name]
    args = tmp_path / "args"
    args.write_text(json.dumps({"no_such_option": 1, "_ansible_check_mode": False, "_ansible_whatever": 1}))
    r = subprocess.run([*binary, str(args)], capture_output=True, text=True)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["failed"] is True
    assert f"Unsupported parameters for ({name}) module: no_such_option" in out["msg"]
    assert "panicked" not in r.stdout + r.stderr
    for bad in ("not json", "[1, 2]"):
        args.write_text(bad)
        r = subprocess.run([*binary, str(args)], capture_output=True, text=True)
        assert r.returncode == 1 and json.loads(r.stdout)["failed"] is True
        r = subprocess.run([*binary, "-"], input=bad, capture_output=True, text=True)  # the fast path's stdin
        assert r.returncode == 1 and "on standard input" in json.loads(r.stdout)["msg"]
    r = subprocess.run([*binary, str(tmp_path / "missing")], capture_output=True, text=True)
    assert r.returncode == 1 and "cannot read the args file" in json.loads(r.stdout)["msg"]


@pytest.mark.parametrize("name", BINARIES)
def test_connection_options_come_from_the_fragment(name):
    """The login_* options are documented once (doc_fragments/postgres.py): a module that takes
    them extends that fragment and does not repeat them."""
    _, documentation = load_documentation(name)
    shared = {o for o in yaml.safe_load(fragment_texts({"extends_documentation_fragment": ["pgha.cluster.postgres"]})[0])[
        "options"] if o.startswith("login_") or o == "ssl_mode"}  # (PCP modules have a connect_timeout of their own)
    own = set(documentation.get("options", {}))
    assert not own & shared, f"{name} repeats {sorted(own & shared)}: extend pgha.cluster.postgres instead"
    if "login_host" in module_options(documentation):
        assert "pgha.cluster.postgres" in documentation.get("extends_documentation_fragment", [])
