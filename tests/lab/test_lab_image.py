"""Smoke test of the pgha lab image (molecule/image/build.sh).

Starts three systemd containers from the image the way the lab runs them (DESIGN.md, "The lab:
three hosts in Docker") on a network of its own, checks that they boot, run sshd, can take a
VIP and reach each other by name, and removes everything it made, also on failure.

    .venv/bin/pytest tests/lab -v          # builds the image first if this machine lacks it

It never touches a running lab: its network is named pghatest-<id> and uses a free /24 from
10.0.99.0/24 downwards (env PGHA_TEST_SUBNET_PREFIX, e.g. "10.0.99", pins one); its containers
are named pghatest-<id>-postgresN (DNS aliases postgres1..3 on that network only). The
network is `--internal`: nothing outside the host is reachable, which shows the image needs no
package mirror to boot. PGHA_IMAGE selects an image instead of building one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "molecule" / "image" / "build.sh"
LABEL = "org.pgha.test=lab-image"
HOSTS = ("postgres1", "postgres2", "postgres3")
RUN_OPTS = [
    "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
    "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock",
]
BOOT_TIMEOUT = 90.0


def sh(*args: str, check: bool = True, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(args)[:300]!s} exited {res.returncode}:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return res


def dexec(name: str, cmd: str, check: bool = True, user: str | None = None) -> subprocess.CompletedProcess:
    extra = ["-u", user] if user else []
    return sh("docker", "exec", *extra, name, "bash", "-c", cmd, check=check)


def docker_ok() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return sh("docker", "info", check=False, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


pytestmark = pytest.mark.skipif(not docker_ok(), reason="docker engine not reachable")


def remove_stale() -> None:
    """Remove what an earlier, killed run of this test left behind (its pid is gone)."""
    for kind, ls in (("container", ["docker", "ps", "-a"]), ("network", ["docker", "network", "ls"])):
        out = sh(*ls, "-q", "--filter", f"label={LABEL}", check=False).stdout.split()
        for obj in out:
            pid = sh("docker", kind, "inspect", "-f", '{{index .Config.Labels "org.pgha.test.pid"}}'
                     if kind == "container" else '{{index .Labels "org.pgha.test.pid"}}', obj, check=False).stdout.strip()
            if pid.isdigit() and Path(f"/proc/{pid}").exists():
                continue
            if kind == "container":
                sh("docker", "rm", "-f", obj, check=False)
            else:
                sh("docker", "network", "rm", obj, check=False)


def used_subnets() -> set[str]:
    nets = sh("docker", "network", "ls", "-q").stdout.split()
    if not nets:
        return set()
    out = sh("docker", "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", *nets).stdout
    return set(out.split())


@pytest.fixture(scope="module")
def image() -> str:
    if os.environ.get("PGHA_IMAGE"):
        return os.environ["PGHA_IMAGE"]
    if os.geteuid() != 0:
        tag = sh(str(REPO / "molecule" / "image" / "tag.sh")).stdout.strip()
        if sh("docker", "image", "inspect", tag, check=False).returncode != 0:
            pytest.skip(f"{tag} not built and not root: run molecule/image/build.sh as root")
        return tag
    res = subprocess.run([str(BUILD)], capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, f"image build failed:\n{res.stderr[-4000:]}"
    return res.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def lab(image: str):
    """Three containers on a private network; yields {'postgres1': (container, ip), ...}."""
    remove_stale()
    run_id = f"{os.getpid()}-{secrets.token_hex(3)}"
    net = f"pghatest-{run_id}"
    labels = ["--label", LABEL, "--label", f"org.pgha.test.pid={os.getpid()}"]
    made: list[str] = []
    network_made = False
    try:
        fixed = os.environ.get("PGHA_TEST_SUBNET_PREFIX")
        prefixes = [fixed] if fixed else [f"10.0.{n}" for n in range(99, 89, -1)]
        taken = used_subnets()
        prefix = None
        for p in prefixes:
            if f"{p}.0/24" in taken:
                continue
            res = sh("docker", "network", "create", "--internal", *labels,
                     "--subnet", f"{p}.0/24", "--ip-range", f"{p}.0/25", "--gateway", f"{p}.1",
                     net, check=False)
            if res.returncode == 0:
                prefix = p
                network_made = True
                break
        assert prefix, f"no free /24 among {prefixes} for the test network"
        nodes = {}
        t0 = time.monotonic()
        for i, host in enumerate(HOSTS, start=1):
            name = f"{net}-{host}"
            ip = f"{prefix}.{180 + i}"
            sh("docker", "run", "-d", "--pull", "never", "--name", name, "--hostname", host, *labels,
               "--network", net, "--ip", ip, "--network-alias", host, *RUN_OPTS, image)
            made.append(name)
            nodes[host] = (name, ip)
        boot = {}
        for host, (name, _ip) in nodes.items():
            state = ""
            while time.monotonic() - t0 < BOOT_TIMEOUT:
                state = dexec(name, "systemctl is-system-running 2>/dev/null || true", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    break
                time.sleep(0.2)
            boot[host] = (state, time.monotonic() - t0)
        yield {"nodes": nodes, "prefix": prefix, "network": net, "boot": boot, "image": image}
    finally:
        if made:
            sh("docker", "rm", "-f", *made, check=False)
        if network_made:
            sh("docker", "network", "rm", net, check=False)


def test_systemd_running(lab):
    for host, (name, _ip) in lab["nodes"].items():
        state, secs = lab["boot"][host]
        failed = dexec(name, "systemctl --failed --no-legend --plain", check=False).stdout
        assert state == "running", f"{host}: is-system-running={state!r}; failed units:\n{failed}"
        print(f"{host}: running {secs:.1f} s after the first `docker run`")


def test_sshd_listening(lab):
    for host, (name, ip) in lab["nodes"].items():
        listen = dexec(name, "ss -Hltn 'sport = :22'").stdout
        assert "0.0.0.0:22" in listen, f"{host}: sshd not listening:\n{listen}"
        # From the host, straight to the container's address: an SSH banner.
        with socket.create_connection((ip, 22), timeout=10) as s:
            s.settimeout(10)
            assert s.recv(64).startswith(b"SSH-2.0-OpenSSH"), host
        keys = dexec(name, "ls /etc/ssh/ssh_host_ed25519_key.pub && ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout
        assert "ED25519" in keys


def test_host_keys_differ(lab):
    fps = {dexec(name, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]
           for name, _ip in lab["nodes"].values()}
    assert len(fps) == len(HOSTS), "containers share SSH host keys"


def test_vip_can_be_added(lab):
    name, _ip = lab["nodes"]["postgres1"]
    vip = f"{lab['prefix']}.180"
    dexec(name, f"ip addr add {vip}/32 dev eth0")
    try:
        assert f"inet {vip}/32" in dexec(name, "ip -4 addr show dev eth0").stdout
        # the watchdog's escalation sends gratuitous ARP with arping
        dexec(name, f"arping -U {vip} -c 1 -w 2 -I eth0 >/dev/null || true")
        # another node reaches the VIP
        other, _ = lab["nodes"]["postgres2"]
        dexec(other, f"ping -c 1 -W 2 {vip}")
        again = dexec(name, f"ip addr add {vip}/32 dev eth0", check=False)
        assert again.returncode != 0 and "already" in (again.stderr + again.stdout).lower()
    finally:
        dexec(name, f"ip addr del {vip}/32 dev eth0", check=False)


def test_peers_by_name(lab):
    name, _ = lab["nodes"]["postgres1"]
    for host in ("postgres2", "postgres3"):
        _, ip = lab["nodes"][host]
        got = dexec(name, f"getent hosts {host}").stdout.split()
        assert got and got[0] == ip, f"postgres1 resolves {host} to {got}, want {ip}"
        dexec(name, f"ping -c 1 -W 2 {host}")
    assert dexec(name, "hostname").stdout.strip() == "postgres1"


def test_packages_and_tools(lab):
    name, _ = lab["nodes"]["postgres1"]
    out = dexec(name, """
        set -e
        /usr/lib/postgresql/15/bin/postgres --version
        psql --version
        pgpool --version 2>&1
        repmgr --version
        test -f /usr/lib/postgresql/15/lib/pgpool-recovery.so
        test -f /usr/lib/postgresql/15/lib/repmgr.so
        for b in pg_md5 pg_enc pcp_node_info pcp_watchdog_info wd_cli; do test -x /usr/sbin/$b; done
        for b in /usr/bin/ip /usr/bin/arping /usr/bin/sudo /usr/bin/setfacl /usr/bin/python3 /usr/bin/ssh-keygen /usr/bin/rsync; do test -x $b; done
        python3 -c 'import apt, psycopg2'
        locale -a
    """).stdout
    assert "PostgreSQL) 15." in out
    assert "pgpool-II version 4.3" in out
    assert "repmgr 5.3" in out
    assert "en_US.utf8" in out and "C.utf8" in out


def test_no_default_services(lab):
    name, _ = lab["nodes"]["postgres1"]
    assert dexec(name, "pg_lsclusters -h").stdout.strip() == ""
    assert dexec(name, "systemctl is-enabled pgpool2.service", check=False).stdout.strip() == "disabled"
    assert dexec(name, "systemctl is-active pgpool2.service", check=False).stdout.strip() == "inactive"
    listen = dexec(name, "ss -Hltn").stdout
    for port in (":5432 ", ":9999 ", ":9898 "):
        assert port not in listen, f"something listens on {port}:\n{listen}"
    conf = dexec(name, "cat /etc/ssh/sshd_config.d/*.conf").stdout
    assert "UseDNS no" in conf


@pytest.mark.skipif(not shutil.which("ssh") or not shutil.which("ssh-keygen"), reason="no ssh client")
def test_ssh_as_non_root_sudo_user(lab, tmp_path):
    """What Ansible does over ssh with a non-root remote_user and become: login, sudo, setfacl."""
    name, ip = lab["nodes"]["postgres2"]
    key = tmp_path / "id_ed25519"
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    pub = key.with_suffix(".pub").read_text().strip()
    dexec(name, f"""
        set -e
        useradd -m -s /bin/bash pghaadmin
        install -d -m 700 -o pghaadmin -g pghaadmin ~pghaadmin/.ssh
        echo '{pub}' > ~pghaadmin/.ssh/authorized_keys
        chown pghaadmin: ~pghaadmin/.ssh/authorized_keys; chmod 600 ~pghaadmin/.ssh/authorized_keys
        echo 'pghaadmin ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/pghaadmin; chmod 440 /etc/sudoers.d/pghaadmin
        visudo -cf /etc/sudoers.d/pghaadmin
    """)
    res = sh("ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
             f"pghaadmin@{ip}",
             "f=$(mktemp) && setfacl -m u:postgres:r-x $f && sudo -n -u postgres cat $f && "
             "sudo -n id -un && rm -f $f", check=False, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "root"
