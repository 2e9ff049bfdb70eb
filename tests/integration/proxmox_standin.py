#!/usr/bin/env python3
"""A small local stand-in for the Proxmox VE API, for contract tests of provision_proxmox.yml.

It answers the endpoints that community.proxmox's proxmox_kvm, proxmox_disk and proxmox_vm_info
call (found by reading their source and by logging their requests), in the shapes the Proxmox
VE API documents (https://pve.proxmox.com/pve-docs/api-viewer/): every answer is
{"data": ...} over HTTPS under /api2/json; asynchronous calls (clone, start, resize on PVE 8)
return a task UPID whose status is then polled at /nodes/{node}/tasks/{upid}/status.

It is not Proxmox: tasks finish at once, nothing is validated beyond what the tests need
(authentication by API token, a clone's source must exist and its new id must be free, only
existing disks can be resized, and only grown). Every request is recorded (method, path, query,
form body) so tests can assert the sequence and payload of calls; any endpoint not listed below
answers 501 and is recorded as `unknown`.

    python3 tests/integration/proxmox_standin.py [--port 8006]   # serve until ^C
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)$")
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def size_bytes(text):
    m = SIZE_RE.match(text)
    if not m:
        raise ValueError(f"bad size {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class ProxmoxState:
    """One node with a cloud-init template; VMs made by clone."""

    def __init__(self, node="pve", version="8.2.4", token="ansible@pve!pgha", secret="s3cret",
                 template_name="debian-12-cloudinit", template_vmid=9000):
        self.node = node
        self.version = version
        self.auth = f"PVEAPIToken={token}={secret}"
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.tasks: dict[str, dict] = {}
        self.vms: dict[int, dict] = {
            template_vmid: {
                "name": template_name, "node": node, "template": 1, "status": "stopped",
                "config": {
                    "name": template_name, "template": 1, "cores": 1, "memory": "2048",
                    "scsihw": "virtio-scsi-pci", "boot": "order=scsi0", "agent": "1",
                    "scsi0": f"local-lvm:base-{template_vmid}-disk-0,size=2G",
                    "ide2": f"local-lvm:vm-{template_vmid}-cloudinit,media=cdrom",
                    "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0", "serial0": "socket", "vga": "serial0",
                    "ostype": "l26",
                },
            }
        }

    # --- helpers ---
    def _upid(self, kind, vmid):
        now = int(time.time())
        upid = f"UPID:{self.node}:{len(self.tasks) + 4096:08X}:{now:08X}:{now:08X}:{kind}:{vmid}:root@pam:"
        self.tasks[upid] = {"upid": upid, "node": self.node, "type": kind, "id": str(vmid), "status": "stopped",
                            "exitstatus": "OK", "starttime": now, "endtime": now, "user": "root@pam"}
        return upid

    def _vm(self, node, vmid):
        vm = self.vms.get(int(vmid))
        if vm is None or vm["node"] != node:
            raise ApiError(500, f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
        return vm

    def _resource(self, vmid, vm):
        return {"id": f"qemu/{vmid}", "type": "qemu", "vmid": vmid, "name": vm["name"], "node": vm["node"],
                "status": vm["status"], "template": vm["template"],
                "maxcpu": int(vm["config"].get("cores", 1)), "maxmem": int(vm["config"].get("memory", 512)) * 1024**2}

    # --- endpoints: (method, regex) -> handler(match, query, form) ---
    def route(self, method, path, query, form):
        for m, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if m == method and match:
                return handler(self, *match.groups(), query=query, form=form)
        raise LookupError(f"{method} {path}")

    def version_get(self, query, form):
        return {"version": self.version, "release": self.version.rsplit(".", 1)[0], "repoid": "standin"}

    def nodes_get(self, query, form):
        return [{"node": self.node, "status": "online", "type": "node", "id": f"node/{self.node}",
                 "maxcpu": 8, "maxmem": 32 * 1024**3}]

    def resources_get(self, query, form):
        kind = query.get("type")
        if kind not in (None, "vm"):
            return []
        return [self._resource(vmid, vm) for vmid, vm in sorted(self.vms.items())]

    def nextid_get(self, query, form):
        return str(max([100, *self.vms]) + 1)

    def qemu_list(self, node, query, form):
        return [{"vmid": vmid, "name": vm["name"], "status": vm["status"], "template": vm["template"],
                 "cpus": int(vm["config"].get("cores", 1))} for vmid, vm in sorted(self.vms.items()) if vm["node"] == node]

    def config_get(self, node, vmid, query, form):
        return dict(self._vm(node, vmid)["config"])

    def config_set(self, node, vmid, query, form):
        vm = self._vm(node, vmid)
        for key, value in form.items():
            if key in ("delete", "digest", "skiplock"):
                continue
            vm["config"][key] = int(value) if key in ("cores", "sockets", "onboot") else value
        vm["name"] = vm["config"].get("name", vm["name"])
        return None

    def clone_post(self, node, vmid, query, form):
        source = self._vm(node, vmid)
        newid = int(form["newid"])
        if newid in self.vms:
            raise ApiError(500, f"unable to create VM {newid}: config file already exists")
        if not source["template"] and form.get("full") not in ("1", "true"):
            raise ApiError(500, "linked clones need a template")
        config = {k: (v.replace(f"base-{vmid}-", f"vm-{newid}-").replace(f"vm-{vmid}-", f"vm-{newid}-")
                      if isinstance(v, str) else v) for k, v in source["config"].items() if k != "template"}
        config["name"] = form.get("name", f"Copy-of-VM-{source['name']}")
        target = form.get("target") or node
        self.vms[newid] = {"name": config["name"], "node": target, "template": 0, "status": "stopped", "config": config}
        return self._upid("qmclone", vmid)

    def resize_put(self, node, vmid, query, form):
        vm = self._vm(node, vmid)
        disk, size = form["disk"], form["size"]
        if disk not in vm["config"]:
            raise ApiError(500, f"disk '{disk}' does not exist")
        parts = vm["config"][disk].split(",")
        current = next(p.split("=", 1)[1] for p in parts if p.startswith("size="))
        new = size_bytes(size[1:]) + size_bytes(current) if size.startswith("+") else size_bytes(size)
        if new < size_bytes(current):
            raise ApiError(500, "shrinking disks is not supported")
        shown = size if not size.startswith("+") else f"{int(new // 1024**3)}G"
        vm["config"][disk] = ",".join(p if not p.startswith("size=") else f"size={shown}" for p in parts)
        return self._upid("resize", vmid)

    def status_current(self, node, vmid, query, form):
        vm = self._vm(node, vmid)
        return {"vmid": int(vmid), "name": vm["name"], "status": vm["status"], "qmpstatus": vm["status"]}

    def status_start(self, node, vmid, query, form):
        vm = self._vm(node, vmid)
        if vm["template"]:
            raise ApiError(500, "you can't start a vm if it's a template")
        vm["status"] = "running"
        return self._upid("qmstart", vmid)

    def task_status(self, node, upid, query, form):
        task = self.tasks.get(unquote(upid))
        if task is None:
            raise ApiError(500, "no such task")
        return task

    def task_log(self, node, upid, query, form):
        return [{"n": 1, "t": "TASK OK"}]


ROUTES = [
    ("GET", r"/api2/json/version", ProxmoxState.version_get),
    ("GET", r"/api2/json/nodes", ProxmoxState.nodes_get),
    ("GET", r"/api2/json/cluster/resources", ProxmoxState.resources_get),
    ("GET", r"/api2/json/cluster/nextid", ProxmoxState.nextid_get),
    ("GET", r"/api2/json/nodes/([^/]+)/qemu", ProxmoxState.qemu_list),
    ("GET", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/config", ProxmoxState.config_get),
    ("PUT", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/config", ProxmoxState.config_set),
    ("POST", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/config", ProxmoxState.config_set),
    ("POST", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/clone", ProxmoxState.clone_post),
    ("PUT", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/resize", ProxmoxState.resize_put),
    ("GET", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/status/current", ProxmoxState.status_current),
    ("POST", r"/api2/json/nodes/([^/]+)/qemu/(\d+)/status/start", ProxmoxState.status_start),
    ("GET", r"/api2/json/nodes/([^/]+)/tasks/([^/]+)/status", ProxmoxState.task_status),
    ("GET", r"/api2/json/nodes/([^/]+)/tasks/([^/]+)/log", ProxmoxState.task_log),
]


def make_handler(state: ProxmoxState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _serve(self):
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
            entry = {"method": self.command, "path": unquote(url.path), "query": query, "form": form,
                     "authorization": self.headers.get("Authorization", "")}
            with state.lock:
                state.requests.append(entry)
                if entry["authorization"] != state.auth:
                    entry["status"] = 401
                    return self._send(401, {"data": None}, "authentication failure")
                try:
                    data = state.route(self.command, entry["path"], query, form)
                    entry["status"] = 200
                    return self._send(200, {"data": data})
                except LookupError:
                    entry["status"] = 501
                    entry["unknown"] = True
                    return self._send(501, {"data": None}, f"Method '{self.command} {url.path}' not implemented")
                except (ApiError, KeyError, ValueError) as e:
                    status = e.status if isinstance(e, ApiError) else 400
                    entry["status"] = status
                    return self._send(status, {"data": None, "errors": {"msg": str(e)}}, str(e))

        def _send(self, status, payload, reason=None):
            raw = json.dumps(payload).encode()
            self.send_response(status, reason)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


def self_signed_cert(directory: Path):
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class StandIn:
    """The API on https://127.0.0.1:<port> and an OpenSSH-like banner on 127.0.0.1:<ssh_port>
    (for wait_for's search_regex), both in daemon threads."""

    def __init__(self, state: ProxmoxState | None = None, port=0):
        self.state = state or ProxmoxState()
        self._tmp = tempfile.TemporaryDirectory(prefix="pve-standin-")
        cert, key = self_signed_cert(Path(self._tmp.name))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.state))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.banner = socket.socket()
        self.banner.bind(("127.0.0.1", 0))
        self.banner.listen(16)
        self.ssh_port = self.banner.getsockname()[1]
        self._threads = [threading.Thread(target=self.httpd.serve_forever, daemon=True),
                         threading.Thread(target=self._banner_loop, daemon=True)]
        for t in self._threads:
            t.start()

    def _banner_loop(self):
        while True:
            try:
                conn, _ = self.banner.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2 (stand-in)\r\n")

    def calls(self):
        """Copies of the recorded requests (method, path, query, form, authorization, status)."""
        with self.state.lock:
            return [dict(r) for r in self.state.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.banner.close()
        self._tmp.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8006)
    args = parser.parse_args()
    standin = StandIn(port=args.port)
    print(f"Proxmox VE stand-in on https://127.0.0.1:{standin.port}/api2/json "
          f"(token ansible@pve!pgha=s3cret), ssh banner on 127.0.0.1:{standin.ssh_port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.close()


if __name__ == "__main__":
    main()
