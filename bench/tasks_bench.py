#!/usr/bin/env python3
"""Many concurrent AI tasks on one server, for bench/run_tasks.sh (stdlib only; loopback only).

  tasks_bench.py BASE SERVER_PID

Each task runs tests/support/scripted_ai.py under `berth agentapi` inside a real workspace (a
`berth_process` running `berth agent`), through the same template shape as the tasks tests.
Every task needs its own agentapi port on this one machine, so the script imports one template
version per task that differs only in the port (imports are cheap; the template is the same).

Steps, with the server's CPU time (utime + stime of SERVER_PID) and memory (VmRSS, VmHWM)
printed after each:
  1. sign up the first user; import TASKS template versions;
  2. create TASKS tasks (CREATORS threads), wait until every one is `active` with
     current_state `idle` after its initial prompt was answered;
  3. idle: SETTLE seconds with all tasks up and nobody calling (the agents' own traffic:
     heartbeats, app health, stats);
  4. send: ROUNDS rounds; in each, every task gets one `POST /api/v2/tasks/me/{id}/send`
     (WORKERS threads, one keep-alive connection each), then the round waits until every
     task answered and is idle again; latency of each send is recorded;
  5. logs: for LOGS_SECONDS, WORKERS threads call `GET /api/v2/tasks/me/{id}/logs` on the
     tasks round-robin; latency and throughput recorded;
  6. delete every task and wait for its workspace to go away.

Environment: TASKS (200), CREATORS (8), WORKERS (16), ROUNDS (3), SETTLE (20), LOGS_SECONDS
(20), DELAY (the scripted program's seconds per answer, 1), PORT_BASE (23000), READY_TIMEOUT
(600), BERTH_SOURCE (the repository, for the scripted program's path).
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workspaces_api  # noqa: E402  (template_tar)

TASKS = int(os.environ.get("TASKS", "200"))
CREATORS = int(os.environ.get("CREATORS", "8"))
WORKERS = int(os.environ.get("WORKERS", "16"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SETTLE = float(os.environ.get("SETTLE", "20"))
LOGS_SECONDS = float(os.environ.get("LOGS_SECONDS", "20"))
DELAY = os.environ.get("DELAY", "1")
PORT_BASE = int(os.environ.get("PORT_BASE", "23000"))
READY_TIMEOUT = float(os.environ.get("READY_TIMEOUT", "600"))
SOURCE = os.environ.get("BERTH_SOURCE", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(SOURCE, "tests", "support", "scripted_ai.py")
PASSWORD = "SomeStr0ng!Passw0rd"

TEMPLATE = r'''
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    TASK_ID           = data.coder_task.me.id
    TASK_PROMPT       = data.coder_task.me.prompt
    SCRIPTED_AI_DELAY = "@DELAY@"
  }
}
resource "coder_script" "agentapi" {
  agent_id     = coder_agent.main.id
  display_name = "AgentAPI"
  run_on_start = true
  script       = <<-EOT
    nohup berth agentapi --port @PORT@ --status-slug ai --initial-prompt "$TASK_PROMPT" \
      -- python3 @SCRIPT@ > agentapi.log 2>&1 &
  EOT
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:@PORT@/"
  healthcheck {
    url       = "http://localhost:@PORT@/status"
    interval  = 5
    threshold = 60
  }
}
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
'''


class Api:
    def __init__(self, base, token=None):
        url = urllib.parse.urlsplit(base)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing non-loopback server {base}")
        self.host, self.port = url.hostname, url.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.token = token

    def raw(self, method, path, body=None, content_type="application/json"):
        headers = {}
        if self.token:
            headers["Coder-Session-Token"] = self.token
        if body is not None:
            if content_type == "application/json":
                body = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except TimeoutError:
                # Counted, not fatal: a request the server did not answer within the timeout.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                return 0, b"client timeout (60 s)"
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise

    def call(self, method, path, body=None, content_type="application/json"):
        status, data = self.raw(method, path, body, content_type)
        if status >= 300:
            raise SystemExit(f"{method} {path}: HTTP {status}: {data[:500]!r}")
        return json.loads(data) if data else None


def server_usage(pid):
    """(CPU seconds, VmRSS MiB, VmHWM MiB) of the server process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                mem[key] = int(value.split()[0]) / 1024
    return cpu, mem["VmRSS"], mem["VmHWM"]


class Meter:
    """Prints the server's CPU use over each phase and its memory at the end of it."""

    def __init__(self, pid):
        self.pid = pid
        self.cpu, _, _ = server_usage(pid)
        self.wall = time.monotonic()

    def phase(self, name):
        cpu, rss, hwm = server_usage(self.pid)
        wall = time.monotonic()
        used, took = cpu - self.cpu, wall - self.wall
        load = open("/proc/loadavg").read().split()[:3]
        print(f"  [{name}] {took:.1f} s wall, server CPU {used:.2f} s ({100 * used / took:.1f} % of "
              f"one core), VmRSS {rss:.1f} MiB, VmHWM {hwm:.1f} MiB, load {' '.join(load)}",
              flush=True)
        self.cpu, self.wall = cpu, wall


def percentiles(samples):
    s = sorted(samples)
    if not s:
        return "no samples"
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] * 1000
    return (f"n={len(s)} p50 {pick(0.5):.1f} ms, p90 {pick(0.9):.1f} ms, p99 {pick(0.99):.1f} ms, "
            f"max {s[-1] * 1000:.1f} ms")


def template_tar(port):
    body = (TEMPLATE.replace("@PORT@", str(port)).replace("@DELAY@", DELAY)
            .replace("@SCRIPT@", SCRIPT).encode())
    return workspaces_api.template_tar(body)


def wait_import(api, version):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.call("GET", f"/api/v2/templateversions/{version}")["job"]
        if job["status"] == "succeeded":
            return
        if job["status"] in ("failed", "canceled"):
            raise SystemExit(f"import {version} {job['status']}: {job.get('error')}")
        time.sleep(0.02)
    raise SystemExit(f"import {version} did not finish in 60 s")


def import_versions(api):
    versions, template_id = [], None
    for i in range(TASKS):
        file_id = api.call("POST", "/api/v2/files", template_tar(PORT_BASE + i),
                           "application/x-tar")["hash"]
        body = {"storage_method": "file", "provisioner": "terraform", "file_id": file_id,
                "name": f"port-{PORT_BASE + i}"}
        if template_id:
            body["template_id"] = template_id
        version = api.call("POST", "/api/v2/organizations/default/templateversions", body)["id"]
        wait_import(api, version)
        if not template_id:
            template_id = api.call("POST", "/api/v2/organizations/default/templates",
                                   {"name": "bench-tasks", "template_version_id": version})["id"]
        versions.append(version)
    return versions


def run_parallel(threads, items, work):
    """Runs work(api_index, item) over items on `threads` threads; re-raises the first error."""
    items = list(items)
    lock = threading.Lock()
    errors = []

    def loop(index):
        while True:
            with lock:
                if not items or errors:
                    return
                item = items.pop(0)
            try:
                work(index, item)
            except BaseException as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(e)
                return

    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]


def task_states(api):
    doc = api.call("GET", "/api/v2/tasks")
    out = {}
    for t in doc["tasks"]:
        state = (t.get("current_state") or {}).get("state", "")
        out[t["id"]] = (t["status"], state)
    return out


def wait_all_idle(api, ids, since, what):
    """Waits until every task is active and reported idle after `since` (monotonic)."""
    deadline = time.monotonic() + READY_TIMEOUT
    pending = set(ids)
    while pending:
        states = task_states(api)
        pending = {i for i in pending if states.get(i) != ("active", "idle")}
        if not pending:
            break
        if time.monotonic() > deadline:
            sample = {i: states.get(i) for i in list(pending)[:5]}
            raise SystemExit(f"{what}: {len(pending)} tasks not idle after {READY_TIMEOUT} s: {sample}")
        time.sleep(0.5)
    return time.monotonic() - since


def main():
    base, pid = sys.argv[1], int(sys.argv[2])
    api = Api(base)
    api.call("POST", "/api/v2/users/first",
             {"email": "owner@example.com", "username": "owner", "password": PASSWORD})
    api.token = api.call("POST", "/api/v2/users/login",
                         {"email": "owner@example.com", "password": PASSWORD})["session_token"]
    meter = Meter(pid)
    print(f"{TASKS} tasks, scripted program delay {DELAY} s, {WORKERS} client threads", flush=True)

    versions = import_versions(api)
    meter.phase(f"import {TASKS} template versions")

    ids = [None] * TASKS
    apis = [Api(base, api.token) for _ in range(max(CREATORS, WORKERS))]
    started = time.monotonic()

    def create(index, i):
        ids[i] = apis[index].call("POST", "/api/v2/tasks/me", {
            "template_version_id": versions[i], "input": f"Bench task {i}",
            "name": f"bench-{i}"})["id"]

    run_parallel(CREATORS, range(TASKS), create)
    created = time.monotonic() - started
    print(f"  created {TASKS} tasks in {created:.1f} s", flush=True)
    # Idle with the initial prompt answered: the agent reports idle only after the screen
    # settled, and the initial prompt is typed on the first stable screen.
    took = wait_all_idle(api, ids, started, "start")
    print(f"  all {TASKS} tasks active and idle {took:.1f} s after the first create", flush=True)
    meter.phase("create and start")

    time.sleep(SETTLE)  # measuring the steady state: the length of the phase is the point
    meter.phase(f"steady, {TASKS} tasks idle")

    all_sends, send_failures = [], []
    for r in range(ROUNDS):
        latencies = []
        failures = []
        lock = threading.Lock()

        def send(index, task_id):
            t0 = time.monotonic()
            status, body = apis[index].raw("POST", f"/api/v2/tasks/me/{task_id}/send",
                                           {"input": f"Round {r} step"})
            took = time.monotonic() - t0
            with lock:
                (latencies if status == 204 else failures).append(
                    took if status == 204 else (status, body[:200]))

        started = time.monotonic()
        run_parallel(WORKERS, ids, send)
        sent = time.monotonic() - started
        answered = wait_all_idle(api, ids, started, f"round {r}")
        print(f"  round {r}: {len(latencies)} sends in {sent:.1f} s, all answered after "
              f"{answered:.1f} s; send {percentiles(latencies)}; failures {len(failures)} "
              f"{failures[:3]}", flush=True)
        all_sends += latencies
        send_failures += failures
    print(f"  POST .../send over all rounds: {percentiles(all_sends)}", flush=True)
    meter.phase(f"send, {ROUNDS} rounds")

    log_latencies, log_failures = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + LOGS_SECONDS

    def read_logs(index):
        i = index
        mine, bad = [], []
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            status, body = apis[index].raw("GET", f"/api/v2/tasks/me/{ids[i % TASKS]}/logs")
            took = time.monotonic() - t0
            if status == 200 and not json.loads(body)["snapshot"]:
                mine.append(took)
            else:
                bad.append((status, body[:200]))
            i += WORKERS
        with lock:
            log_latencies.extend(mine)
            log_failures.extend(bad)

    pool = [threading.Thread(target=read_logs, args=(w,)) for w in range(WORKERS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(f"  GET .../logs: {len(log_latencies) / LOGS_SECONDS:.0f} req/s; "
          f"{percentiles(log_latencies)}; failures {len(log_failures)} {log_failures[:3]}",
          flush=True)
    meter.phase(f"logs, {LOGS_SECONDS:.0f} s")

    workspaces = [t["workspace_id"] for t in api.call("GET", "/api/v2/tasks")["tasks"]]
    run_parallel(CREATORS, ids, lambda index, i: apis[index].call(
        "DELETE", f"/api/v2/tasks/me/{i}"))
    deadline = time.monotonic() + READY_TIMEOUT
    for w in workspaces:
        while api.raw("GET", f"/api/v2/workspaces/{w}")[0] != 410:
            if time.monotonic() > deadline:
                raise SystemExit(f"workspace {w} not deleted in time")
            time.sleep(0.2)
    meter.phase("delete")
    return 1 if log_failures or send_failures else 0


if __name__ == "__main__":
    sys.exit(main())
