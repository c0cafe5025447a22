#!/usr/bin/env node
// How long a build's state change takes to reach a workspace watcher (Node.js standard library
// only; loopback servers only). Used by bench/run_replicas.sh.
//
//   node bench/pubsub_latency.mjs --trigger URL --watch NAME=URL [--watch NAME=URL ...]
//        [--setup] [--transitions N] [--gap-ms MS] [--events FILE] [--postgres-url URL]
//
// --setup creates the first user (owner@example.com) on --trigger, signs in, imports a template
// with an agent but no process, and creates a workspace; otherwise it signs in and reuses the
// owner's first workspace. Then it opens one SSE watch (GET /api/v2/workspaces/{id}/watch) per
// --watch server, waits for each to send the workspace, and requests N builds (stop, start,
// stop, ...) through --trigger one after the other, each once every watcher has seen the
// previous one end.
//
// For every (build, job status) a watcher sees for the first time it records the moment the
// frame arrived (wall clock, microseconds: performance.timeOrigin + performance.now(), the same
// clock the servers stamp with, all on one machine) and the server's own stamp of that change:
// job created_at for "pending", started_at for "running", completed_at for a final status.
// Each stamp is taken inside the transaction that commits the change, so stamp → arrival is an
// upper bound of commit → arrival. --events writes every record as one JSON line (with the job
// id). Prints a summary per watcher and status.
//
// --postgres-url (a server with track_commit_timestamp on): afterwards, looks up with psql when
// each build's final state was committed (pg_xact_commit_timestamp of its job row, which
// nothing updates after completion) and prints commit → arrival for the final states too, the
// goal's own measure; and, with two or more watchers, how much later than the first watcher
// each other one saw the same final state. It also LISTENs itself on the workspace's PostgreSQL
// channel and each build job's (a minimal client of PostgreSQL's protocol: trust
// authentication only, as the throwaway server has), which splits commit → arrival into
// commit → the job's "end" NOTIFY delivered (the publishing replica's first NOTIFY and
// PostgreSQL's delivery), → the workspace's NOTIFY delivered (the publisher's read of the build
// and its second NOTIFY), → the watcher's frame (the watching replica's part: its LISTEN
// thread, the watch's re-read of the workspace and the write).

import { execFileSync } from "node:child_process";
import http from "node:http";
import fs from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";

const PASSWORD = "SomeStr0ng!Passw0rd";
const BUILD_TIMEOUT_MS = 30_000;
const FINAL = new Set(["succeeded", "failed", "canceled"]);

function parseArgs(argv) {
  const args = { watch: [], transitions: 200, gapMs: 20, setup: false, events: null, postgresUrl: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--trigger") args.trigger = value();
    else if (a === "--watch") {
      const [name, url] = value().split(/=(.*)/s);
      if (!url) throw new Error("--watch wants NAME=URL");
      args.watch.push({ name, url });
    } else if (a === "--transitions") args.transitions = Number(value());
    else if (a === "--gap-ms") args.gapMs = Number(value());
    else if (a === "--events") args.events = value();
    else if (a === "--postgres-url") args.postgresUrl = value();
    else if (a === "--setup") args.setup = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.trigger || args.watch.length === 0) throw new Error("--trigger and --watch are required");
  if (!(args.transitions >= 1 && args.transitions <= 100_000)) throw new Error("--transitions: 1..100000");
  for (const u of [args.trigger, ...args.watch.map((w) => w.url)]) {
    const host = new URL(u).hostname;
    if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) throw new Error(`refusing non-loopback ${u}`);
  }
  return args;
}

// Wall-clock milliseconds with a microsecond fraction.
const wallMs = () => performance.timeOrigin + performance.now();
const stampMs = (text) => {
  // RFC 3339 with up to 6 fractional digits; Date.parse keeps only milliseconds.
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!m) throw new Error(`unexpected timestamp ${text}`);
  const frac = (m[2] || "").padEnd(6, "0").slice(0, 6);
  return Date.parse(m[1] + "Z") + Number(frac) / 1000;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function call(base, token, method, path, body, contentType = "application/json") {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (token) headers["Coder-Session-Token"] = token;
    let payload = null;
    if (body !== undefined) {
      payload = contentType === "application/json" ? Buffer.from(JSON.stringify(body)) : body;
      headers["Content-Type"] = contentType;
      headers["Content-Length"] = payload.length;
    }
    const req = http.request(new URL(path, base), { method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text ? JSON.parse(text) : null);
      });
    });
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A one-file ustar archive.
function tar(name, content) {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  const put = (offset, length, text) => header.write(text, offset, length, "ascii");
  put(0, 100, name);
  put(100, 8, "0000644\0");
  put(108, 8, "0000000\0");
  put(116, 8, "0000000\0");
  put(124, 12, data.length.toString(8).padStart(11, "0") + "\0");
  put(136, 12, "14524460000\0");
  put(148, 8, "        ");
  put(156, 1, "0");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of header) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

// An agent that never connects and no process: a build is only the control plane's work.
const TEMPLATE = `data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
`;

async function waitJob(base, token, path) {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    const doc = await call(base, token, "GET", path);
    if (doc.job.status === "succeeded") return doc;
    if (FINAL.has(doc.job.status)) throw new Error(`${path}: job ${doc.job.status}: ${doc.job.error}`);
    if (Date.now() > deadline) throw new Error(`${path}: still ${doc.job.status}`);
    await sleep(20);
  }
}

async function setUp(base) {
  await call(base, null, "POST", "/api/v2/users/first", { email: "owner@example.com", username: "owner", password: PASSWORD });
  const token = await signIn(base);
  const file = await call(base, token, "POST", "/api/v2/files", tar("main.tf", TEMPLATE), "application/x-tar");
  const version = await call(base, token, "POST", "/api/v2/organizations/default/templateversions", {
    storage_method: "file",
    file_id: file.hash,
    provisioner: "terraform",
  });
  await waitJob(base, token, `/api/v2/templateversions/${version.id}`);
  const template = await call(base, token, "POST", "/api/v2/organizations/default/templates", {
    name: "pubsub-bench",
    template_version_id: version.id,
  });
  const ws = await call(base, token, "POST", "/api/v2/users/me/workspaces", { template_id: template.id, name: "watched" });
  await waitJob(base, token, `/api/v2/workspacebuilds/${ws.latest_build.id}`);
  return { token, workspaceId: ws.id };
}

async function signIn(base) {
  const login = await call(base, null, "POST", "/api/v2/users/login", { email: "owner@example.com", password: PASSWORD });
  return login.session_token;
}

// One SSE watch; calls onWorkspace(workspace, arrival) for each `data` event.
function watch(base, token, workspaceId, onWorkspace) {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(`/api/v2/workspaces/${workspaceId}/watch`, base), {
      headers: { "Coder-Session-Token": token, Accept: "text/event-stream" },
    });
    req.on("response", (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch on ${base}: HTTP ${res.statusCode}`));
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk) => {
        const arrival = wallMs(); // before any parsing
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(event)?.[1];
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (type === "data" && data) onWorkspace(JSON.parse(data), arrival);
        }
      });
      res.on("end", () => console.error(`watch on ${base} ended`));
      resolve(req);
    });
    req.on("error", reject);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

export function summarize(values) {
  const v = [...values].sort((a, b) => a - b);
  return { n: v.length, p50: percentile(v, 0.5), p90: percentile(v, 0.9), p99: percentile(v, 0.99), max: v[v.length - 1] };
}

// PostgresPubsub's channel for a Berth channel: "berth_" + FNV-1a 64 of it in hex.
function postgresChannel(channel) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(channel)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return "berth_" + hash.toString(16).padStart(16, "0");
}

// A LISTEN-only client of PostgreSQL's protocol v3 on `channel`: calls
// onNotify(postgresChannel, payload, arrival) for each notification; resolves with
// { listen(channel), close() } once the first LISTEN is done.
function listenProbe(postgresUrl, channel, onNotify) {
  const url = new URL(postgresUrl);
  const user = decodeURIComponent(url.username || "postgres");
  const database = decodeURIComponent(url.pathname.slice(1) || user);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 5432), url.hostname);
    socket.setNoDelay(true);
    const message = (type, body) => {
      const head = Buffer.alloc(5);
      head.write(type, 0, "ascii");
      head.writeInt32BE(body.length + 4, 1);
      return Buffer.concat([head, body]);
    };
    const listen = (name) => socket.write(message("Q", Buffer.from(`LISTEN ${name}\0`)));
    const probe = { listen, close: () => socket.destroy() };
    socket.on("connect", () => {
      const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
      const startup = Buffer.alloc(8);
      startup.writeInt32BE(params.length + 8, 0);
      startup.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([startup, params]));
    });
    let buffer = Buffer.alloc(0);
    let state = "starting"; // then "listening", then "ready"
    socket.on("data", (chunk) => {
      const arrival = wallMs();
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        const type = String.fromCharCode(buffer[0]);
        const body = buffer.subarray(5, 1 + buffer.readInt32BE(1));
        buffer = buffer.subarray(1 + buffer.readInt32BE(1));
        if (type === "R" && body.readInt32BE(0) !== 0) return reject(new Error("the LISTEN probe supports trust authentication only"));
        if (type === "E") {
          const error = new Error(`PostgreSQL: ${body.toString().replace(/\0/g, " ")}`);
          if (state !== "ready") return reject(error);
          throw error;
        }
        if (type === "Z" && state === "starting") {
          state = "listening";
          listen(channel);
        } else if (type === "Z" && state === "listening") {
          state = "ready";
          resolve(probe);
        } else if (type === "A") {
          // int32 pid, channel, payload (both NUL-terminated)
          const end = body.indexOf(0, 4);
          onNotify(body.subarray(4, end).toString(), body.subarray(end + 1, body.length - 1).toString(), arrival);
        }
      }
    });
    socket.on("error", reject);
  });
}

const row = (name, s) =>
  `${name.padEnd(38)} ${String(s.n).padStart(5)} ${[s.p50, s.p90, s.p99, s.max].map((x) => x.toFixed(2).padStart(8)).join("")}`;

// Commit → arrival of final states, from PostgreSQL's commit timestamps.
function reportCommitLatency(args, records, probed) {
  const finals = records.filter((r) => FINAL.has(r.status));
  const jobs = [...new Set(finals.map((r) => r.job))];
  if (jobs.length === 0) return;
  const out = execFileSync("psql", ["-At", "-F", "\t", args.postgresUrl, "-c",
    `SELECT id, (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::text, completed_at
       FROM provisioner_jobs WHERE id = ANY('{${jobs.join(",")}}'::text[])`], { encoding: "utf8" });
  const committed = new Map();
  let beforeStamp = 0;
  for (const line of out.trim().split("\n")) {
    const [id, ms, completedMicros] = line.split("\t");
    committed.set(id, Number(ms));
    // completed_at is stamped inside the transaction: its commit can only come later.
    if (Number(ms) * 1000 < Number(completedMicros) - 1) beforeStamp++;
  }
  console.log("final state, commit → arrival (ms)        seen      p50     p90     p99     max");
  for (const w of args.watch) {
    const mine = finals.filter((r) => r.watcher === w.name && committed.has(r.job));
    console.log(row(`${w.name}`, summarize(mine.map((r) => r.arrival - committed.get(r.job)))));
  }
  const stampOf = new Map(finals.filter((r) => r.stamp !== null).map((r) => [r.job, r.stamp]));
  const gaps = [...stampOf].filter(([job]) => committed.has(job)).map(([job, stamp]) => committed.get(job) - stamp);
  console.log(row("(completed_at stamp → commit)", summarize(gaps)));
  if (beforeStamp) console.log(`warning: ${beforeStamp} commit timestamp(s) earlier than completed_at`);
  if (probed.length) {
    // The first notification on the workspace's channel after a build's final commit is the
    // one announcing it: the next build is requested only once every watcher saw this one end.
    const workspaceArrivals = probed.filter((n) => n.workspace).map((n) => n.arrival).sort((a, b) => a - b);
    const firstAfter = (t) => {
      let lo = 0, hi = workspaceArrivals.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (workspaceArrivals[mid] < t) lo = mid + 1; else hi = mid; }
      return lo < workspaceArrivals.length ? workspaceArrivals[lo] : null;
    };
    const delivered = new Map();
    for (const [job, t] of committed) { const d = firstAfter(t); if (d !== null) delivered.set(job, d); }
    // The job's own "end" on its channel comes first (JobQueue::publish): from it to the
    // workspace's is the publisher's read of the build between the two NOTIFYs.
    const jobEnd = new Map(probed.filter((n) => n.job && n.message === "end").map((n) => [n.job, n.arrival]));
    const withEnd = [...committed.keys()].filter((job) => jobEnd.has(job) && delivered.has(job));
    console.log(row("commit → job's NOTIFY delivered", summarize(withEnd.map((job) => jobEnd.get(job) - committed.get(job)))));
    console.log(row("job's → workspace's NOTIFY delivered", summarize(withEnd.map((job) => delivered.get(job) - jobEnd.get(job)))));
    console.log(row("commit → workspace's NOTIFY delivered", summarize([...delivered].map(([job, d]) => d - committed.get(job)))));
    for (const w of args.watch) {
      const mine = finals.filter((r) => r.watcher === w.name && delivered.has(r.job));
      console.log(row(`workspace's NOTIFY → ${w.name}'s frame`, summarize(mine.map((r) => r.arrival - delivered.get(r.job)))));
    }
  }
  if (args.watch.length < 2) return;
  const first = args.watch[0].name;
  const arrivalOf = new Map(finals.filter((r) => r.watcher === first).map((r) => [r.build, r.arrival]));
  for (const w of args.watch.slice(1)) {
    const deltas = finals.filter((r) => r.watcher === w.name && arrivalOf.has(r.build)).map((r) => r.arrival - arrivalOf.get(r.build));
    console.log(row(`${w.name} arrival − ${first} arrival`, summarize(deltas)));
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { token, workspaceId } = args.setup
    ? await setUp(args.trigger)
    : await (async () => {
        const token = await signIn(args.trigger);
        const list = await call(args.trigger, token, "GET", "/api/v2/workspaces?limit=1");
        return { token, workspaceId: list.workspaces[0].id };
      })();

  const records = [];
  const seen = new Map(); // watcher -> Set of "build/status"
  const finalSeen = new Map(); // build id -> Set of watchers that saw it end
  let waiting = null; // { buildId, resolve }
  const requests = new Map(); // build id -> { sent, answered, transition }
  for (const w of args.watch) seen.set(w.name, new Set());

  const onWorkspace = (watcher) => (ws, arrival) => {
    const build = ws.latest_build;
    const job = build.job;
    const key = `${build.id}/${job.status}`;
    if (seen.get(watcher).has(key)) return;
    seen.get(watcher).add(key);
    const stampText = job.status === "pending" ? job.created_at : job.status === "running" ? job.started_at : job.completed_at;
    const record = {
      watcher,
      build: build.id,
      job: job.id,
      transition: build.transition,
      status: job.status,
      arrival,
      stamp: stampText ? stampMs(stampText) : null,
      request: requests.get(build.id) ?? null,
    };
    records.push(record);
    if (FINAL.has(job.status)) {
      if (!finalSeen.has(build.id)) finalSeen.set(build.id, new Set());
      finalSeen.get(build.id).add(watcher);
      if (waiting && waiting.buildId === build.id && finalSeen.get(build.id).size === args.watch.length) waiting.resolve();
    }
  };

  // Notifications the probe received: { workspace: true } or { job: id }, message, arrival.
  const probed = [];
  const workspaceChannel = postgresChannel(`workspace:${workspaceId}`);
  const jobOfChannel = new Map();
  const probe = args.postgresUrl
    ? await listenProbe(args.postgresUrl, workspaceChannel, (channel, payload, arrival) => {
        const message = payload.slice(payload.indexOf(":") + 1 + Number(payload.slice(0, payload.indexOf(":"))));
        if (channel === workspaceChannel) probed.push({ workspace: true, message, arrival });
        else if (jobOfChannel.has(channel)) probed.push({ job: jobOfChannel.get(channel), message, arrival });
      })
    : null;
  const ready = new Map();
  const streams = [];
  for (const w of args.watch) {
    let first;
    const gotFirst = new Promise((r) => (first = r));
    streams.push(
      await watch(w.url, token, workspaceId, (ws, arrival) => {
        first();
        onWorkspace(w.name)(ws, arrival);
      }),
    );
    ready.set(w.name, gotFirst);
  }
  await Promise.all(ready.values());
  records.length = 0; // the initial frames are no state change
  probed.length = 0;

  const started = Date.now();
  for (let i = 0; i < args.transitions; i++) {
    const transition = i % 2 === 0 ? "stop" : "start";
    const sent = wallMs();
    // The build id is known only from the answer, which may come after a watcher saw it: the
    // watchers' records refer to `requests` lazily (filled in below before anything reads it).
    const build = await call(args.trigger, token, "POST", `/api/v2/workspaces/${workspaceId}/builds`, { transition });
    const answered = wallMs();
    if (probe) {
      // Usually before the job ends; when not, that job has no split below.
      const channel = postgresChannel(`provisioner_job:${build.job.id}`);
      jobOfChannel.set(channel, build.job.id);
      probe.listen(channel);
    }
    requests.set(build.id, { sent, answered, transition });
    for (const r of records) if (r.build === build.id && !r.request) r.request = requests.get(build.id);
    if ((finalSeen.get(build.id)?.size ?? 0) < args.watch.length) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`build ${i + 1} (${transition}) not seen to end by every watcher`)), BUILD_TIMEOUT_MS);
        waiting = { buildId: build.id, resolve: () => { clearTimeout(timer); resolve(); } };
      });
    }
    waiting = null;
    if (args.gapMs > 0) await sleep(args.gapMs);
  }
  const elapsed = (Date.now() - started) / 1000;
  for (const s of streams) s.destroy();
  probe?.close();
  agent.destroy();

  if (args.events) fs.writeFileSync(args.events, records.map((r) => JSON.stringify(r)).join("\n") + "\n");

  console.log(`${args.transitions} builds in ${elapsed.toFixed(1)} s through ${args.trigger}; watchers: ${args.watch.map((w) => w.name).join(", ")}`);
  console.log("watcher, status, stamp → arrival (ms)      seen      p50     p90     p99     max");
  for (const w of args.watch) {
    for (const status of ["pending", "running", "succeeded"]) {
      const mine = records.filter((r) => r.watcher === w.name && r.status === status && r.stamp !== null);
      if (mine.length) console.log(row(`${w.name} ${status}`, summarize(mine.map((r) => r.arrival - r.stamp))));
    }
  }
  if (args.postgresUrl) reportCommitLatency(args, records, probed);
  const other = records.filter((r) => !["pending", "running", "succeeded"].includes(r.status));
  if (other.length) console.log(`unexpected statuses: ${[...new Set(other.map((r) => r.status))].join(", ")}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
