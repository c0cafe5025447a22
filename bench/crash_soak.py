#!/usr/bin/env python3
"""Crash soak for bench/run_crash_soak.sh (issue #16): builds under kill -9 and restarts.

  crash_soak.py BERTH_BINARY WORKDIR

Python 3 standard library only; loopback servers only. Starts `berth server` on a fresh data
directory WORKDIR/data, signs up the owner, imports a template whose workspaces are real
processes (a `berth_process` running `sleep`, which also starts a second `sleep` that leaves its
session with `nohup setsid`, as scripts do), then loops until BUILDS builds were acknowledged:

  1. reads the state of every workspace it holds (GET /api/v2/workspaces/{id});
  2. fires a burst of 1..BURST build requests from a second thread, on one keep-alive
     connection: create a workspace (its first build), or a start, stop or delete build of a
     workspace whose latest job is not active (the transition drawn from its state);
  3. in most rounds SIGKILLs the server after a random delay (0..KILL_MAX_MS from the start of
     the burst: while requests are in flight or while builds run), then restarts it on the same
     data directory; in the others (NO_KILL_PCT) lets everything settle instead.

Every build and workspace the server acknowledged with a 2xx goes into a ledger. A request
that got no answer (the server died under it) is counted, not ledgered: it may or may not have
happened. At the end, with the server running:

  - stuck jobs: provisioner jobs not completed SETTLE_TIMEOUT s after the last restart;
  - lost rows: ledgered workspaces and builds missing from the database (read-only sqlite3),
    and ledgered non-deleted workspaces that GET /api/v2/workspaces/{id} does not answer 200;
  - failed builds by reason (the job's error, numbers and ids masked);
  - stray processes: processes carrying this run's marker (BERTH_CRASH_SOAK=<run id> in their
    environment) that the latest build of no live workspace accounts for. A process is
    accounted for when it carries the BERTH_PROCESS_MARKER of a pid recorded (alive, same start
    time) in the provisioner_state of its workspace's latest build. Checked at the end and in
    every round that settled without a kill (distinct processes counted once, with the latest
    build of their workspace, and whether a later build ended them). Then every workspace is
    deleted, and any marked process left at all is a stray;
  - PRAGMA integrity_check of the database (after a clean SIGTERM stop), and the server's RSS.

Exit status 0 only if stuck, lost and stray are all 0 and the integrity check says ok.

Environment: BUILDS (1000), SEED (random, printed), BURST (12), POOL (24, most live workspaces),
KILL_MAX_MS (400), NO_KILL_PCT (15), SETTLE_TIMEOUT (120), DAEMONS (3, --provisioner-daemons),
MAX_MINUTES (40, the loop stops early past this and says so).
"""

import collections
import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workspaces_api  # noqa: E402  (Api: loopback-only client with the session header)

BUILDS = int(os.environ.get("BUILDS", "1000"))
SEED = int(os.environ.get("SEED") or int.from_bytes(os.urandom(4), "big"))
BURST = int(os.environ.get("BURST", "12"))
POOL = int(os.environ.get("POOL", "24"))
KILL_MAX_MS = float(os.environ.get("KILL_MAX_MS", "400"))
NO_KILL_PCT = float(os.environ.get("NO_KILL_PCT", "15"))
SETTLE_TIMEOUT = float(os.environ.get("SETTLE_TIMEOUT", "120"))
DAEMONS = int(os.environ.get("DAEMONS", "3"))
MAX_MINUTES = float(os.environ.get("MAX_MINUTES", "40"))
PASSWORD = "SomeStr0ng!Passw0rd"
MARK = "BERTH_CRASH_SOAK"

# The workspace: `sleep` as the recorded process, and a second `sleep` that leaves its process
# group and session (what `nohup cmd &` in a startup script with setsid does), so that a stop has
# to find it by the marker the server puts in the environment. Both inherit MARK.
TEMPLATE = r'''
data "coder_workspace" "me" {}
resource "berth_process" "main" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "nohup setsid sleep 86400 >/dev/null 2>&1 & exec sleep 86400"]
  env     = ["@MARK@=@RUN@"]
}
'''
PROCS_PER_WORKSPACE = 2


def log(*args):
    print(*args, flush=True)


# ---- the server ----------------------------------------------------------------------------

class Server:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.data = os.path.join(workdir, "data")
        self.proc = None
        self.base = None
        self.starts = 0
        self.start_seconds = []
        self.max_rss_kib = 0

    def start(self):
        self.starts += 1
        out = os.path.join(self.workdir, f"stdout.{self.starts}")
        err = open(os.path.join(self.workdir, "server.log"), "ab")
        err.write(f"==== start {self.starts} ====\n".encode())
        err.flush()
        t0 = time.monotonic()
        # Its own process group: the kill is aimed at it alone. Workspace processes lead their
        # own sessions (the server setsid()s them), so they are not in this group by design.
        self.proc = subprocess.Popen(
            [self.binary, "server", "--dangerous-disable-rate-limits",
             "--http-address", "127.0.0.1:0", "--data-dir", self.data, "--log-level", "warn",
             "--provisioner-daemons", str(DAEMONS)],
            stdin=subprocess.DEVNULL, stdout=open(out, "wb"), stderr=err,
            start_new_session=True)
        err.close()
        with open(os.path.join(self.workdir, "server.pid"), "w") as f:
            f.write(str(self.proc.pid))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(out) as f:
                m = re.search(r"^Started HTTP listener at (http://\S+)", f.read(), re.M)
            if m:
                self.base = m.group(1)
                self.start_seconds.append(time.monotonic() - t0)
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"berth server exited ({self.proc.returncode}) before listening; "
                                 f"see {self.workdir}/server.log")
            time.sleep(0.02)
        raise SystemExit("berth server did not listen within 60 s")

    def rss(self):
        """(VmRSS, VmHWM) in KiB."""
        vals = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    vals[k] = int(v.split()[0])
        self.max_rss_kib = max(self.max_rss_kib, vals["VmRSS"])
        return vals["VmRSS"], vals["VmHWM"]

    def kill9(self):
        try:
            self.rss()
        except (OSError, KeyError):
            pass
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed after 30 s)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


# ---- the API -------------------------------------------------------------------------------

class Api(workspaces_api.Api):
    """workspaces_api.Api that reports what happened instead of exiting: (status, body), with
    status 0 when the server gave no answer (connection refused, reset, closed)."""

    def __init__(self, base, token=None):
        super().__init__(base, token)
        self.base = base

    def raw(self, method, path, body=None):
        headers = {"Coder-Session-Token": self.token} if self.token else {}
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            return 0, repr(e).encode()
        try:
            return resp.status, (json.loads(data) if data else None)
        except ValueError:
            return resp.status, data


def template_tar(run_id):
    body = TEMPLATE.replace("@MARK@", MARK).replace("@RUN@", run_id).encode()
    return workspaces_api.template_tar(body)


# ---- the database, read-only ---------------------------------------------------------------

def db(path):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def incomplete_jobs(path):
    with db(path) as c:
        return c.execute("SELECT count(*) FROM provisioner_jobs WHERE completed_at IS NULL"
                         ).fetchone()[0]


def wait_settled(path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        n = incomplete_jobs(path)
        if n == 0 or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


# ---- processes -----------------------------------------------------------------------------

def proc_env(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def proc_stat(pid):
    """(state, start_ticks) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def marked_processes(run_id, data_dir):
    """Live (not zombie) processes of this run: the marker in their environment, or a workspace
    dir of this data dir in BERTH_WORKSPACE_DIR or as their working directory."""
    out = []
    me = os.getpid()
    under = os.path.join(data_dir, "workspaces") + "/"
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        st = proc_stat(pid)
        if not st or st[0] in ("Z", "X"):
            continue
        env = proc_env(pid)
        if env is None:
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd") + "/"
        except OSError:
            cwd = ""
        if (env.get(MARK) == run_id or (env.get("BERTH_WORKSPACE_DIR", "") + "/").startswith(under)
                or cwd.startswith(under)):
            out.append({"pid": pid, "start_ticks": st[1],
                        "workspace": os.path.basename(env.get("BERTH_WORKSPACE_DIR", "")),
                        "marker": env.get("BERTH_PROCESS_MARKER", ""),
                        "cmd": open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")
                        .decode(errors="replace").strip() if os.path.exists(f"/proc/{pid}") else ""})
    return out


def recorded_processes(state_blob):
    """(pid, start_ticks) of the processes a provisioner_state records."""
    if not state_blob:
        return []
    try:
        doc = json.loads(state_blob if isinstance(state_blob, str) else state_blob.decode())
    except (ValueError, UnicodeDecodeError):
        return []
    out = []
    for p in (doc.get("processes") or []) if isinstance(doc, dict) else []:
        st = p.get("state") or {}
        if "pid" in st:
            out.append((int(st["pid"]), int(st.get("start_ticks", 0))))
    return out


def stray_report(run_id, data_dir, db_path):
    """(strays, missing, details): marked processes no live workspace's latest build accounts
    for, and recorded processes of running workspaces that are not alive."""
    with db(db_path) as c:
        rows = c.execute("""
            SELECT w.id, w.deleted, b.transition, b.provisioner_state, j.completed_at, j.error
            FROM workspaces w
            JOIN workspace_builds b ON b.workspace_id = w.id AND b.build_number =
              (SELECT max(build_number) FROM workspace_builds WHERE workspace_id = w.id)
            JOIN provisioner_jobs j ON j.id = b.job_id""").fetchall()
    procs = marked_processes(run_id, data_dir)
    by_pid = {p["pid"]: p for p in procs}
    accounted_markers = set()
    missing = []
    for wid, deleted, transition, state, completed, error in rows:
        if deleted:
            continue
        for pid, ticks in recorded_processes(state):
            p = by_pid.get(pid)
            if p and p["start_ticks"] == ticks and p["workspace"] == wid:
                accounted_markers.add((wid, p["marker"]))
            elif transition == "start" and completed and not error:
                missing.append((wid, pid))
    strays = [p for p in procs if (p["workspace"], p["marker"]) not in accounted_markers]
    return strays, missing, rows


# ---- the soak ------------------------------------------------------------------------------

class Soak:
    def __init__(self, binary, workdir):
        self.rng = random.Random(SEED)
        self.run_id = os.urandom(6).hex()
        self.server = Server(binary, workdir)
        self.db_path = os.path.join(workdir, "data", "berth.db")
        self.token = None
        self.template_id = None
        self.ledger_workspaces = {}   # id -> name
        self.ledger_builds = {}       # build id -> (workspace id, transition)
        self.pool = {}                # live workspace id -> name
        self.requested = 0            # build requests sent (create counts as one)
        self.unanswered = 0
        self.statuses = collections.Counter()   # (action, HTTP status) of answered requests
        self.kills = 0
        self.settled_rounds = 0
        self.rounds = 0
        self.mid_run_strays = []      # (round, strays) seen in settled rounds
        self.actions = collections.Counter()
        self.names = 0
        self.seen_strays = {}         # (pid, start_ticks) -> latest build of its workspace then
        self.events = open(os.path.join(workdir, "events.log"), "w")

    def event(self, text):
        """One line of WORKDIR/events.log, stamped with CLOCK_BOOTTIME seconds (what a process's
        start_ticks / CLK_TCK counts), so strays can be placed on the timeline."""
        self.events.write(f"{time.clock_gettime(time.CLOCK_BOOTTIME):.3f} {text}\n")
        self.events.flush()

    def api(self):
        return Api(self.server.base, self.token)

    def setup(self):
        self.server.start()
        api = self.api()
        s, body = api.raw("POST", "/api/v2/users/first",
                          {"email": "owner@example.com", "username": "owner", "password": PASSWORD})
        if s != 201:
            raise SystemExit(f"first user: HTTP {s}: {body}")
        s, body = api.raw("POST", "/api/v2/users/login",
                          {"email": "owner@example.com", "password": PASSWORD})
        if s != 201:
            raise SystemExit(f"login: HTTP {s}: {body}")
        self.token = body["session_token"]
        api = workspaces_api.Api(self.server.base, self.token)
        file_id = api.call("POST", "/api/v2/files", template_tar(self.run_id),
                           "application/x-tar")["hash"]
        version = api.call("POST", "/api/v2/organizations/default/templateversions",
                           {"storage_method": "file", "file_id": file_id,
                            "provisioner": "terraform"})
        workspaces_api.wait_job(api, f"/api/v2/templateversions/{version['id']}", "import")
        self.template_id = api.call("POST", "/api/v2/organizations/default/templates",
                                    {"name": "soak", "template_version_id": version["id"]})["id"]

    def refresh(self, api):
        """Idle workspaces with what their latest build was: {id: (transition, job status)}."""
        idle = {}
        for wid in list(self.pool):
            s, body = api.raw("GET", f"/api/v2/workspaces/{wid}")
            if s in (404, 410):
                self.pool.pop(wid)
                continue
            if s != 200:
                raise SystemExit(f"GET /workspaces/{wid}: HTTP {s}: {body}")
            b = body["latest_build"]
            status = b["job"]["status"]
            if b["transition"] == "delete" and status == "succeeded":
                self.pool.pop(wid)
            elif status in ("succeeded", "failed", "canceled"):
                idle[wid] = (b["transition"], status)
        return idle

    def plan(self, idle):
        n = self.rng.randint(1, BURST)
        ids = sorted(idle)
        self.rng.shuffle(ids)
        out = []
        live = len(self.pool)
        for _ in range(n):
            if live < POOL and (not ids or self.rng.random() < 0.3):
                live += 1
                out.append(("create", None))
                continue
            if not ids:
                break
            wid = ids.pop()
            transition, status = idle[wid]
            r = self.rng.random()
            if status == "succeeded":
                nxt = {"start": "stop", "stop": "start"}[transition]
                out.append(("delete" if r < 0.15 else nxt, wid))
            else:  # failed or canceled: retry it, go the other way, or delete
                other = "stop" if transition == "start" else "start"
                out.append((transition if r < 0.5 else other if r < 0.8 else "delete", wid))
        return out

    def fire(self, actions, stop_flag):
        api = self.api()
        for action, wid in actions:
            if stop_flag.is_set():
                return
            self.requested += 1
            self.actions[action] += 1
            if action == "create":
                self.names += 1
                name = f"soak-{self.names}"
                s, body = api.raw("POST", "/api/v2/users/me/workspaces",
                                  {"name": name, "template_id": self.template_id})
            else:
                s, body = api.raw("POST", f"/api/v2/workspaces/{wid}/builds",
                                  {"transition": action})
            self.event(f"{action} {wid or name}: HTTP {s}"
                       + (f" build {body['id'] if action != 'create' else body['latest_build']['id']}"
                          + (f" workspace {body['id']}" if action == 'create' else '')
                          if 200 <= s < 300 else ""))
            if s == 0:
                self.unanswered += 1
                continue
            self.statuses[(action, s)] += 1
            if 200 <= s < 300:
                if action == "create":
                    self.ledger_workspaces[body["id"]] = name
                    self.pool[body["id"]] = name
                    b = body["latest_build"]
                    self.ledger_builds[b["id"]] = (body["id"], "start")
                else:
                    self.ledger_builds[body["id"]] = (wid, action)

    def acked(self):
        return len(self.ledger_builds)

    def round(self):
        self.rounds += 1
        api = self.api()
        actions = self.plan(self.refresh(api))
        stop_flag = threading.Event()
        kill = self.rng.random() * 100 >= NO_KILL_PCT
        delay = self.rng.uniform(0, KILL_MAX_MS) / 1000.0
        t = threading.Thread(target=self.fire, args=(actions, stop_flag))
        t0 = time.monotonic()
        t.start()
        self.event(f"round {self.rounds}: {len(actions)} actions, "
                   + (f"kill after {delay * 1000:.0f} ms" if kill else "no kill"))
        if kill:
            time.sleep(max(0.0, delay - (time.monotonic() - t0)))
            stop_flag.set()
            self.server.kill9()
            self.event(f"killed server pid {self.server.proc.pid}")
            self.kills += 1
            t.join()
            self.server.start()
            self.event(f"restarted: server pid {self.server.proc.pid}")
        else:
            t.join()
            left = wait_settled(self.db_path, 60)
            self.settled_rounds += 1
            self.event(f"settled: {left} incomplete jobs")
            if left == 0:
                strays, _, _ = stray_report(self.run_id, self.server.data, self.db_path)
                new = [p for p in strays if (p["pid"], p["start_ticks"]) not in self.seen_strays]
                for p in strays:
                    self.seen_strays.setdefault((p["pid"], p["start_ticks"]),
                                                latest_build_of(self.db_path, p["workspace"]))
                if strays:
                    self.mid_run_strays.append((self.rounds, len(strays)))
                if new:
                    log(f"  round {self.rounds}, settled: {len(new)} new stray process(es)")
                    describe_strays(self.db_path, new)

    def run(self):
        t_start = time.monotonic()
        last = t_start
        while self.acked() < BUILDS:
            if time.monotonic() - t_start > MAX_MINUTES * 60:
                log(f"stopping early: MAX_MINUTES={MAX_MINUTES} reached")
                break
            self.round()
            if time.monotonic() - last > 30:
                last = time.monotonic()
                log(f"  {time.monotonic() - t_start:6.0f} s: round {self.rounds}, "
                    f"{self.acked()} builds acknowledged, {self.kills} kills, "
                    f"{len(self.pool)} live workspaces, load {os.getloadavg()[0]:.2f}")
        return time.monotonic() - t_start


def latest_build_of(db_path, wid):
    """'transition status' of a workspace's latest build."""
    with db(db_path) as c:
        row = c.execute(
            "SELECT b.transition, j.completed_at IS NOT NULL, coalesce(j.error, '') != '' "
            "FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id "
            "WHERE b.workspace_id = ? ORDER BY b.build_number DESC LIMIT 1", (wid,)).fetchone()
    if not row:
        return "no build"
    return f"{row[0]} {'failed' if row[2] else 'succeeded' if row[1] else 'incomplete'}"


def describe_strays(db_path, strays):
    boot_ticks = os.sysconf("SC_CLK_TCK")
    for p in strays[:10]:
        log(f"    pid {p['pid']} (started at boot+{p['start_ticks'] / boot_ticks:.2f} s) workspace "
            f"{p['workspace']} marker {p['marker']}: {p['cmd']}")
    for w in sorted({p["workspace"] for p in strays})[:5]:
        describe_workspace(db_path, w)


def describe_workspace(db_path, wid):
    """Prints a workspace's builds, for a stray's story."""
    with db(db_path) as c:
        rows = c.execute(
            "SELECT b.build_number, b.id, b.transition, b.provisioner_state, j.started_at, "
            "j.completed_at, j.error FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id "
            "WHERE b.workspace_id = ? ORDER BY b.build_number", (wid,)).fetchall()
        deleted = c.execute("SELECT deleted FROM workspaces WHERE id = ?", (wid,)).fetchone()
    markers = os.path.join(os.path.dirname(db_path), "workspaces", wid, ".berth-processes")
    try:
        files = sorted(os.listdir(markers))
    except OSError:
        files = []
    log(f"    workspace {wid} (deleted={deleted[0] if deleted else '?'}), marker files {files}:")
    for n, bid, transition, state, started, completed, error in rows:
        pids = recorded_processes(state)
        status = ("pending" if not started else "running" if not completed
                  else "failed" if error else "succeeded")
        log(f"      build {n} {bid} {transition} {status} recorded pids {pids}"
            + (f" error: {error}" if error else ""))


def mask(text):
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    return re.sub(r"\d+", "<n>", text)


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    soak = Soak(binary, workdir)
    log(f"crash soak: BUILDS={BUILDS} SEED={SEED} BURST={BURST} POOL={POOL} "
        f"KILL_MAX_MS={KILL_MAX_MS:g} NO_KILL_PCT={NO_KILL_PCT:g} DAEMONS={DAEMONS}; "
        f"run id {soak.run_id}; {os.cpu_count()} CPUs, load {os.getloadavg()}")
    log("(the seed fixes the plan of each round and the kill delays; which builds a kill "
        "interrupts also depends on timing)")
    try:
        soak.setup()
        took = soak.run()
        return report(soak, took)
    finally:
        # Whatever happened, the server does not outlive the driver (the shell script then ends
        # every workspace process of the data directory).
        if soak.server.proc and soak.server.proc.poll() is None:
            soak.server.proc.kill()
            soak.server.proc.wait()


def report(soak, took):
    server = soak.server
    log(f"loop done in {took:.0f} s: {soak.rounds} rounds, {soak.kills} kills, "
        f"{soak.settled_rounds} rounds settled without a kill; {soak.requested} build requests "
        f"sent ({dict(soak.actions)}), {soak.acked()} acknowledged, {soak.unanswered} unanswered "
        f"(the server died under them)")
    starts = sorted(server.start_seconds)
    log(f"server restarts: {server.starts - 1}; start to listening p50 "
        f"{starts[len(starts) // 2] * 1000:.0f} ms, max {starts[-1] * 1000:.0f} ms")
    log("answers: " + ", ".join(f"{a} {s}: {n}" for (a, s), n in sorted(soak.statuses.items())))

    failures = []

    # Settle: nothing pending or running after the grace period.
    stuck = wait_settled(soak.db_path, SETTLE_TIMEOUT)
    with db(soak.db_path) as c:
        stuck_rows = c.execute(
            "SELECT id, type, started_at IS NOT NULL, canceled_at IS NOT NULL FROM provisioner_jobs "
            "WHERE completed_at IS NULL").fetchall()
    log(f"\nstuck jobs (not completed {SETTLE_TIMEOUT:g} s after the last restart): {stuck}")
    for r in stuck_rows[:10]:
        log(f"  job {r[0]} {r[1]} started={bool(r[2])} canceled={bool(r[3])}")
    if stuck:
        failures.append("stuck")

    # Lost rows.
    with db(soak.db_path) as c:
        ws_ids = {r[0] for r in c.execute("SELECT id FROM workspaces")}
        deleted = {r[0] for r in c.execute("SELECT id FROM workspaces WHERE deleted != 0")}
        builds = {r[0]: r[1] for r in c.execute(
            "SELECT b.id, j.id FROM workspace_builds b LEFT JOIN provisioner_jobs j ON j.id = b.job_id")}
        job_states = collections.Counter(
            r[0] for r in c.execute(
                "SELECT CASE WHEN completed_at IS NULL THEN 'incomplete' "
                "WHEN error IS NOT NULL AND error != '' THEN 'failed' "
                "WHEN canceled_at IS NOT NULL THEN 'canceled' ELSE 'succeeded' END "
                "FROM provisioner_jobs WHERE type = 'workspace_build'"))
        reasons = collections.Counter(
            mask(r[0]) for r in c.execute(
                "SELECT error FROM provisioner_jobs WHERE type = 'workspace_build' "
                "AND completed_at IS NOT NULL AND error IS NOT NULL AND error != ''"))
        leftover_lines = c.execute(
            "SELECT count(*) FROM provisioner_job_logs WHERE output LIKE "
            "'%left by an interrupted build%'").fetchone()[0]
    lost_ws = [w for w in soak.ledger_workspaces if w not in ws_ids]
    lost_builds = [b for b in soak.ledger_builds if b not in builds]
    jobless = [b for b in soak.ledger_builds if b in builds and builds[b] is None]
    api = soak.api()
    unreadable = []
    for w in soak.ledger_workspaces:
        if w in ws_ids and w not in deleted:
            s, _ = api.raw("GET", f"/api/v2/workspaces/{w}")
            if s != 200:
                unreadable.append((w, s))
    lost = len(lost_ws) + len(lost_builds) + len(jobless) + len(unreadable)
    log(f"lost rows: {lost} (ledger: {len(soak.ledger_workspaces)} workspaces, "
        f"{len(soak.ledger_builds)} builds acknowledged; missing workspaces {len(lost_ws)}, "
        f"missing builds {len(lost_builds)}, builds without their job {len(jobless)}, live "
        f"workspaces not readable through the API {len(unreadable)}); the database holds "
        f"{len(ws_ids)} workspaces ({len(deleted)} deleted) and {len(builds)} builds")
    for x in (lost_ws + lost_builds + jobless + unreadable)[:10]:
        log(f"  {x}")
    if lost:
        failures.append("lost")

    log(f"workspace build jobs: {dict(job_states)}")
    log("failed builds by reason:")
    for reason, n in reasons.most_common():
        log(f"  {n:5d}  {reason}")
    log(f"job log lines 'left by an interrupted build' (leftovers a later build stopped): "
        f"{leftover_lines}")
    with open(os.path.join(server.workdir, "server.log"), errors="replace") as f:
        slog = f.read()
    failed_at_start = sum(int(n) for n in re.findall(
        r"failed (\d+) provisioner job\(s\) left running by the previous process", slog))
    reconciled = len(re.findall(r"workspace \S+: .*left by an interrupted build", slog))
    errors = [l for l in slog.splitlines() if re.search(r"\[(error|critical)\]", l)]
    log(f"server log: {failed_at_start} running jobs failed at restarts, {reconciled} lines of "
        f"leftover processes stopped at start-up, {len(errors)} error lines")
    for l in errors[:5]:
        log(f"  {l}")

    # Strays while workspaces still exist.
    strays, missing, rows = stray_report(soak.run_id, server.data, soak.db_path)
    running = sum(1 for r in rows if not r[1] and r[2] == "start" and r[4] and not r[5])
    marked = marked_processes(soak.run_id, server.data)
    log(f"\nstray processes with workspaces live: {len(strays)} ({len(marked)} marked processes "
        f"alive, {running} running workspaces × {PROCS_PER_WORKSPACE} expected = "
        f"{running * PROCS_PER_WORKSPACE}); running workspaces whose recorded process is gone: "
        f"{len(missing)}")
    describe_strays(soak.db_path, strays)
    for p in strays:
        soak.seen_strays.setdefault((p["pid"], p["start_ticks"]),
                                    latest_build_of(soak.db_path, p["workspace"]))
    if soak.seen_strays:
        alive = {(p["pid"], p["start_ticks"]) for p in marked}
        still = sum(1 for k in soak.seen_strays if k in alive)
        kinds = collections.Counter(soak.seen_strays.values())
        log(f"  distinct stray processes seen in settled moments (mid-run and now): "
            f"{len(soak.seen_strays)}, {still} of them alive now; by the latest build of their "
            f"workspace when first seen: {dict(kinds)}")

    # Delete every workspace; then nothing of this run may be left running.
    deadline = time.monotonic() + SETTLE_TIMEOUT
    delete_failures = collections.Counter()
    while True:
        with db(soak.db_path) as c:
            live = [r[0] for r in c.execute("SELECT id FROM workspaces WHERE deleted = 0")]
        if not live or time.monotonic() > deadline:
            break
        for w in live:
            s, body = api.raw("POST", f"/api/v2/workspaces/{w}/builds", {"transition": "delete"})
            if s not in (201, 409):
                delete_failures[s] += 1
        wait_settled(soak.db_path, max(1, deadline - time.monotonic()))
        with db(soak.db_path) as c:
            for (err,) in c.execute(
                    "SELECT j.error FROM workspaces w JOIN workspace_builds b ON b.workspace_id = w.id "
                    "JOIN provisioner_jobs j ON j.id = b.job_id WHERE w.deleted = 0 AND "
                    "b.transition = 'delete' AND j.error IS NOT NULL AND j.error != ''"):
                delete_failures[mask(err)] += 1
    time.sleep(1)  # what a stop SIGTERMed may take a moment to exit
    left = marked_processes(soak.run_id, server.data)
    strays_after = len(left)
    log(f"after deleting every workspace: {len(live)} workspaces not deleted, "
        f"{strays_after} marked processes still alive"
        + (f"; delete problems: {dict(delete_failures)}" if delete_failures else ""))
    for p in left[:10]:
        log(f"  pid {p['pid']} workspace {p['workspace']} marker {p['marker']}: {p['cmd']}")
    if soak.seen_strays or strays_after:
        failures.append("stray")
    if live:
        failures.append("undeletable")

    rss, hwm = server.rss()
    log(f"\nserver memory (last instance, after the deletes): VmRSS {rss / 1024:.1f} MiB, "
        f"VmHWM {hwm / 1024:.1f} MiB; highest VmRSS of any instance just before its kill "
        f"{server.max_rss_kib / 1024:.1f} MiB")
    status = server.stop()
    log(f"server stopped with SIGTERM: exit status {status}")
    with db(soak.db_path) as c:
        integrity = [r[0] for r in c.execute("PRAGMA integrity_check")]
        fk = c.execute("PRAGMA foreign_key_check").fetchall()
    ok = integrity == ["ok"]
    log(f"PRAGMA integrity_check: {'ok' if ok else integrity[:10]}; "
        f"PRAGMA foreign_key_check: {len(fk)} violation(s)")
    if not ok:
        failures.append("integrity")

    log(f"\nRESULT stuck={stuck} lost={lost} stray={len(soak.seen_strays) + strays_after} "
        f"({len(soak.seen_strays)} distinct while settled, {len(strays)} of them at the final check; "
        f"{strays_after} after deleting every workspace) "
        f"integrity={'ok' if ok else 'FAILED'} builds_acknowledged={soak.acked()} "
        f"kills={soak.kills} seed={SEED}")
    if failures:
        log("FAILED: " + ", ".join(failures))
        return 1
    log("goal met: 0 stuck, 0 lost, 0 stray, integrity ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
