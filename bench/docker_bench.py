#!/usr/bin/env python3
"""Workspace start/stop through Berth's Docker provider beside the engine alone (stdlib only).

  docker_bench.py BERTH_BINARY [BUILDS]

Starts its own Podman service (Docker-compatible API on a Unix socket in a temporary
directory, runc, vfs storage; the machine's configuration is not used or changed), imports a
busybox-only image, starts `berth server` on a free loopback port, and pushes a template whose
container runs `sleep` (no agent: this measures the build, not the agent's download).
Then, BUILDS times each:
  berth   start / stop builds: POST /workspaces/{id}/builds to the job's `succeeded`
  api     the Engine API calls such a build makes, sent directly over the socket
          (start: inspect image, create, start, inspect; stop: stop, delete)
  podman  `podman run -d` / `podman rm -f` of the same image, the CLI a person would use
and prints medians and p90s. Berth's overhead = berth - api. Everything runs on this machine;
the server and the engine are on loopback and a Unix socket only.
"""

import http.client
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

IMAGE = "localhost/berth-bench-busybox:latest"
TEMPLATE = """
provider "docker" { host = "%s" }
data "coder_workspace" "me" {}
resource "coder_agent" "main" { os = "linux" }
resource "docker_container" "ws" {
  count        = data.coder_workspace.me.start_count
  name         = "bench-${data.coder_workspace.me.id}"
  image        = "%s"
  network_mode = "host"
  entrypoint   = ["sleep", "3600"]
  destroy_grace_seconds = 0
  env          = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
"""


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def engine(sock, method, path, body=None):
    conn = UnixConnection(sock)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, "/v1.41" + path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 400:
        raise SystemExit(f"engine {method} {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


class Api:
    def __init__(self, port, token=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = token

    def call(self, method, path, body=None, content_type="application/json"):
        headers = {"Coder-Session-Token": self.token} if self.token else {}
        if body is not None and content_type == "application/json":
            body = json.dumps(body).encode()
        if body is not None:
            headers["Content-Type"] = content_type
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            raise SystemExit(f"{method} {path}: HTTP {resp.status}: {data[:500]!r}")
        return json.loads(data) if data else None


def wait_job(api, path):
    deadline = time.monotonic() + 60
    while True:
        doc = api.call("GET", path)
        status = doc["job"]["status"]
        if status == "succeeded":
            return doc
        if status in ("failed", "canceled") or time.monotonic() > deadline:
            raise SystemExit(f"{path}: {status}: {doc['job'].get('error')}")
        time.sleep(0.002)


def tar_of(name, text):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def summary(name, samples):
    s = sorted(samples)
    p90 = s[min(len(s) - 1, int(len(s) * 0.9))]
    print(f"{name:<16} median {statistics.median(s) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"
          f"   (n={len(s)})")
    return statistics.median(s)


def main():
    binary = sys.argv[1]
    builds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    work = tempfile.mkdtemp(prefix="berth-bench-docker-")
    env = dict(os.environ,
               CONTAINERS_CONF=f"{work}/containers.conf",
               CONTAINERS_STORAGE_CONF=f"{work}/storage.conf",
               XDG_RUNTIME_DIR=f"{work}/tmp", TMPDIR=f"{work}/tmp")
    os.makedirs(f"{work}/tmp")
    with open(f"{work}/containers.conf", "w") as f:
        f.write('[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n'
                f'[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                f'events_logfile_path = "{work}/events.log"\ntmp_dir = "{work}/tmp"\n')
    with open(f"{work}/storage.conf", "w") as f:
        f.write(f'[storage]\ndriver = "vfs"\ngraphroot = "{work}/graph"\nrunroot = "{work}/run"\n')
    sock = f"{work}/podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    server = None
    try:
        while not os.path.exists(sock):
            time.sleep(0.05)
        rootfs = f"{work}/rootfs"
        os.makedirs(f"{rootfs}/bin")
        shutil.copy("/bin/busybox", f"{rootfs}/bin/busybox")
        for applet in ("sh", "sleep"):
            os.symlink("busybox", f"{rootfs}/bin/{applet}")
        subprocess.run(["tar", "-C", rootfs, "-cf", f"{work}/rootfs.tar", "."], check=True)
        subprocess.run(["podman", "import", f"{work}/rootfs.tar", IMAGE], env=env, check=True,
                       stdout=subprocess.DEVNULL)

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        server = subprocess.Popen([binary, "server", "--dangerous-disable-rate-limits", "--http-address", f"127.0.0.1:{port}",
                                   "--data-dir", f"{work}/data", "--log-level", "warn"],
                                  stdout=subprocess.DEVNULL, stderr=open(f"{work}/server.log", "w"))
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        api = Api(port)
        user = {"email": "bench@example.com", "username": "bench", "password": "SomeStr0ng!Passw0rd"}
        api.call("POST", "/api/v2/users/first", user)
        api.token = api.call("POST", "/api/v2/users/login",
                             {"email": user["email"], "password": user["password"]})["session_token"]
        file_id = api.call("POST", "/api/v2/files", tar_of("main.tf", TEMPLATE % (f"unix://{sock}", IMAGE)),
                           "application/x-tar")["hash"]
        version = api.call("POST", "/api/v2/organizations/default/templateversions",
                           {"storage_method": "file", "provisioner": "terraform", "file_id": file_id})
        wait_job(api, f"/api/v2/templateversions/{version['id']}")
        tmpl = api.call("POST", "/api/v2/organizations/default/templates",
                        {"name": "bench", "template_version_id": version["id"]})
        ws = api.call("POST", "/api/v2/users/me/workspaces", {"name": "bench", "template_id": tmpl["id"]})
        wait_job(api, f"/api/v2/workspacebuilds/{ws['latest_build']['id']}")

        berth = {"start": [], "stop": []}
        for i in range(builds * 2):
            transition = "stop" if i % 2 == 0 else "start"
            t0 = time.monotonic()
            b = api.call("POST", f"/api/v2/workspaces/{ws['id']}/builds", {"transition": transition})
            wait_job(api, f"/api/v2/workspacebuilds/{b['id']}")
            berth[transition].append(time.monotonic() - t0)

        raw = {"start": [], "stop": []}
        for i in range(builds):
            t0 = time.monotonic()
            engine(sock, "GET", f"/images/{IMAGE.replace('/', '%2F')}/json")
            c = engine(sock, "POST", f"/containers/create?name=raw-{i}",
                       {"Image": IMAGE, "Entrypoint": ["sleep", "3600"], "Env": ["X=1"],
                        "HostConfig": {"NetworkMode": "host"}})
            engine(sock, "POST", f"/containers/{c['Id']}/start")
            engine(sock, "GET", f"/containers/{c['Id']}/json")
            raw["start"].append(time.monotonic() - t0)
            t0 = time.monotonic()
            engine(sock, "POST", f"/containers/{c['Id']}/stop?t=0")
            engine(sock, "DELETE", f"/containers/{c['Id']}?force=true")
            raw["stop"].append(time.monotonic() - t0)

        cli = {"start": [], "stop": []}
        for i in range(builds):
            t0 = time.monotonic()
            subprocess.run(["podman", "run", "-d", "--name", f"cli-{i}", "--network", "host", IMAGE,
                            "sleep", "3600"], env=env, check=True, stdout=subprocess.DEVNULL)
            cli["start"].append(time.monotonic() - t0)
            t0 = time.monotonic()
            subprocess.run(["podman", "rm", "-f", "-t", "0", f"cli-{i}"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            cli["stop"].append(time.monotonic() - t0)

        print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
        for t in ("start", "stop"):
            b = summary(f"berth {t}", berth[t])
            a = summary(f"api {t}", raw[t])
            summary(f"podman {t}", cli[t])
            print(f"  Berth's own overhead on {t}: {(b - a) * 1000:.1f} ms (median berth - median api)")
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait()
        subprocess.run(["podman", "rm", "--all", "--force", "--time", "0"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.killpg(service.pid, signal.SIGTERM)
        service.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
