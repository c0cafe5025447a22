#!/usr/bin/env python3
"""API steps for bench/run_workspaces.sh (stdlib only; loopback servers only).

  workspaces_api.py login BASE EMAIL PASSWORD     prints a session token
  workspaces_api.py ids BASE TOKEN                prints "<workspace id> <its latest build id>"
  workspaces_api.py pipeline BASE TOKEN BUILDS    times BUILDS stop/start builds of a workspace
                                                  made from a template with no resources

`pipeline` uploads a one-file template (main.tf: `locals {}`), imports it, creates a template
and a workspace, waits for the workspace's first build, then for each of BUILDS builds
(alternating stop and start) measures the wall time from sending
`POST /api/v2/workspaces/{id}/builds` to the first `GET /api/v2/workspacebuilds/{id}` whose
job status is `succeeded`, polling every POLL_MS (2) milliseconds on one keep-alive
connection. It also reports, from the job's own timestamps, queueing (created_at → started_at)
and running (started_at → completed_at).
"""

import datetime
import http.client
import io
import json
import os
import sys
import tarfile
import time
import urllib.parse

POLL_S = float(os.environ.get("POLL_MS", "2")) / 1000.0
TIMEOUT_S = 60.0


class Api:
    def __init__(self, base, token=None):
        url = urllib.parse.urlsplit(base)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing non-loopback server {base}")
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.token = token

    def call(self, method, path, body=None, content_type="application/json"):
        headers = {}
        if self.token:
            headers["Coder-Session-Token"] = self.token
        if body is not None:
            if content_type == "application/json":
                body = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            raise SystemExit(f"{method} {path}: HTTP {resp.status}: {data[:500]!r}")
        return json.loads(data) if data else None


def wait_job(api, path, what):
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        doc = api.call("GET", path)
        status = doc["job"]["status"]
        if status == "succeeded":
            return doc
        if status in ("failed", "canceled"):
            raise SystemExit(f"{what} {status}: {doc['job'].get('error')}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} still {status} after {TIMEOUT_S} s")
        time.sleep(POLL_S)


def template_tar(body=b"locals {}\n"):
    """A template archive holding one main.tf with `body`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("main.tf")
        info.size = len(body)
        info.mode = 0o644
        info.mtime = 1_700_000_000
        tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def ts(text):
    # RFC 3339 with Z or an offset, up to nanoseconds; Python wants at most microseconds.
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    return datetime.datetime.fromisoformat(text)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def pipeline(api, builds):
    file_id = api.call("POST", "/api/v2/files", template_tar(), "application/x-tar")["hash"]
    version = api.call(
        "POST",
        "/api/v2/organizations/default/templateversions",
        {"storage_method": "file", "file_id": file_id, "provisioner": "terraform"},
    )
    wait_job(api, f"/api/v2/templateversions/{version['id']}", "template import")
    name = f"empty-{int(time.time())}"
    template = api.call(
        "POST",
        "/api/v2/organizations/default/templates",
        {"name": name, "template_version_id": version["id"]},
    )
    ws = api.call(
        "POST",
        "/api/v2/users/me/workspaces",
        {"template_id": template["id"], "name": name},
    )
    wait_job(api, f"/api/v2/workspacebuilds/{ws['latest_build']['id']}", "first build")

    wall, queued, ran, polls = [], [], [], 0
    for i in range(builds):
        transition = "stop" if i % 2 == 0 else "start"
        t0 = time.perf_counter()
        build = api.call(
            "POST", f"/api/v2/workspaces/{ws['id']}/builds", {"transition": transition}
        )
        path = f"/api/v2/workspacebuilds/{build['id']}"
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            doc = api.call("GET", path)
            polls += 1
            status = doc["job"]["status"]
            if status == "succeeded":
                break
            if status in ("failed", "canceled") or time.monotonic() > deadline:
                raise SystemExit(f"build {i + 1} ({transition}) {status}: {doc['job'].get('error')}")
            time.sleep(POLL_S)
        wall.append((time.perf_counter() - t0) * 1000.0)
        job = doc["job"]
        created, started, completed = (ts(job[k]) for k in ("created_at", "started_at", "completed_at"))
        queued.append((started - created).total_seconds() * 1000.0)
        ran.append((completed - started).total_seconds() * 1000.0)

    print(f"build pipeline: {builds} sequential stop/start builds of a template with no resources "
          f"(polling every {POLL_S * 1000:g} ms, {polls} polls)")
    print("| measure | p50 ms | p90 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, v in (
        ("POST → succeeded (client wall time)", wall),
        ("job created_at → started_at (queue)", queued),
        ("job started_at → completed_at (run)", ran),
    ):
        print(f"| {label} | {pct(v, 0.5):.1f} | {pct(v, 0.9):.1f} | {pct(v, 0.99):.1f} | {max(v):.1f} |")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd, base = sys.argv[1], sys.argv[2]
    if cmd == "login":
        doc = Api(base).call(
            "POST", "/api/v2/users/login", {"email": sys.argv[3], "password": sys.argv[4]}
        )
        print(doc["session_token"])
    elif cmd == "ids":
        api = Api(base, sys.argv[3])
        doc = api.call("GET", "/api/v2/workspaces?limit=25")
        if not doc["workspaces"]:
            raise SystemExit("no workspaces")
        w = doc["workspaces"][0]
        print(w["id"], w["latest_build"]["id"], doc["count"])
    elif cmd == "pipeline":
        pipeline(Api(base, sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
