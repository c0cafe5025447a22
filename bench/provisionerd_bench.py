#!/usr/bin/env python3
"""API steps for bench/run_provisionerd.sh (stdlib only; loopback servers only).

  provisionerd_bench.py key BASE                creates the first user and a provisioner key;
                                                prints "<session token> <key>"
  provisionerd_bench.py run BASE TOKEN JOBS     queues JOBS template imports and waits for them

`run` uploads a one-file template with no resources (main.tf: `locals { a = 1 }`) once, then
queues JOBS imports of it (`POST /organizations/default/templateversions`) from CLIENTS (8)
threads, each on its own keep-alive connection, and polls every job until it ended. A job is
lost when it is still pending, and stuck when it is still running, once no job has ended for
STALL_S (60) seconds. Throughput is JOBS over the time from the first job's created_at to the
last one's completed_at (the server's own timestamps); it also reports queueing (created_at →
started_at), running (started_at → completed_at) and how many jobs each daemon took.
"""

import collections
import concurrent.futures
import os
import sys
import threading
import time

# The same client and helpers as the other API benches (the script's directory is on sys.path).
from workspaces_api import Api, template_tar, ts

CLIENTS = int(os.environ.get("CLIENTS", "8"))
STALL_S = float(os.environ.get("STALL_S", "60"))
PASSWORD = "SomeStr0ng!Passw0rd"


# One Api per thread: http.client connections are not thread-safe.
_local = threading.local()


def api_for(base, token):
    if getattr(_local, "api", None) is None:
        _local.api = Api(base, token)
    return _local.api


def key(base):
    api = Api(base)
    api.call("POST", "/api/v2/users/first",
             {"email": "owner@example.com", "username": "owner", "password": PASSWORD})
    token = api.call("POST", "/api/v2/users/login",
                     {"email": "owner@example.com", "password": PASSWORD})["session_token"]
    api.token = token
    created = api.call("POST", "/api/v2/organizations/default/provisionerkeys",
                       {"name": "bench", "tags": {}})
    print(token, created["key"])


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def run(base, token, jobs):
    api = Api(base, token)
    file_id = api.call("POST", "/api/v2/files", template_tar(b"locals {\n  a = 1\n}\n"), "application/x-tar")["hash"]
    body = {"storage_method": "file", "provisioner": "terraform", "file_id": file_id}

    def create(_):
        return api_for(base, token).call(
            "POST", "/api/v2/organizations/default/templateversions", body)["id"]

    def read(version_id):
        return api_for(base, token).call("GET", f"/api/v2/templateversions/{version_id}")["job"]

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        started = time.monotonic()
        ids = list(pool.map(create, range(jobs)))
        queued_s = time.monotonic() - started
        done = {}
        last_progress = time.monotonic()
        while len(done) < jobs and time.monotonic() - last_progress < STALL_S:
            waiting = [v for v in ids if v not in done]
            for version_id, job in zip(waiting, pool.map(read, waiting)):
                if job["status"] in ("succeeded", "failed", "canceled"):
                    done[version_id] = job
                    last_progress = time.monotonic()
            if len(done) < jobs:
                time.sleep(0.2)
        left = [read(v) for v in ids if v not in done]

    statuses = collections.Counter(job["status"] for job in done.values())
    lost = sum(1 for job in left if job["status"] == "pending")
    stuck = len(left) - lost
    workers = collections.Counter(job.get("worker_name", "?") for job in done.values())
    first = min(ts(j["created_at"]) for j in done.values()) if done else None
    last = max(ts(j["completed_at"]) for j in done.values()) if done else None
    span = (last - first).total_seconds() if done else float("nan")
    queueing = [(ts(j["started_at"]) - ts(j["created_at"])).total_seconds() * 1000
                for j in done.values() if "started_at" in j]
    running = [(ts(j["completed_at"]) - ts(j["started_at"])).total_seconds() * 1000
               for j in done.values() if "started_at" in j]
    print(f"jobs: {jobs} queued in {queued_s:.1f} s from {CLIENTS} clients")
    print(f"ended: {len(done)} ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
          f"lost (still pending): {lost}; stuck (still running): {stuck}")
    print(f"throughput: {jobs / span:.1f} jobs/s ({span:.1f} s from the first job queued to the "
          f"last one done)")
    print(f"queueing ms: p50 {percentile(queueing, 50):.0f}, p99 {percentile(queueing, 99):.0f}; "
          f"running ms: p50 {percentile(running, 50):.1f}, p99 {percentile(running, 99):.1f}")
    print("per daemon: " + ", ".join(f"{k} {v}" for k, v in sorted(workers.items())))
    if lost or stuck or statuses.get("succeeded", 0) != jobs:
        sys.exit(1)


def main(argv):
    if len(argv) == 3 and argv[1] == "key":
        key(argv[2])
    elif len(argv) == 5 and argv[1] == "run":
        run(argv[2], argv[3], int(argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
