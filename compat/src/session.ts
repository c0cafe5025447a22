// A whole session against a real `berth server`, driven by a client nobody on the Berth
// project wrote: openapi-fetch over the types openapi-typescript generated from Coder's API
// description. Every response is decoded against that description (check.ts).
//
// Usage: node dist/session.js <berth binary> <repository root> <openapi.json>
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import createClient from "openapi-fetch";
import type { Client } from "openapi-fetch";
import type { components, paths } from "../generated/schema.js";
import { Checker } from "./check.js";
import { tar } from "./tar.js";

type Schemas = components["schemas"];
type Api = Client<paths>;

const [berthArg, rootArg, openapiArg] = process.argv.slice(2);
if (!berthArg || !rootArg || !openapiArg) {
  console.error("usage: session.js <berth binary> <repository root> <openapi.json>");
  process.exit(2);
}
const berth: string = berthArg;
const root: string = rootArg;
const openapi: string = openapiArg;
const checker = new Checker(openapi);
const password = "SomeStr0ng!Passw0rd";

// The template every workspace of the session uses: an agent, a parameter, and a task app
// run by `berth agentapi` around a scripted stand-in for an AI CLI.
function template(port: number): string {
  return `
data "coder_workspace" "me" {}
data "coder_task" "me" {}
data "coder_parameter" "region" {
  name    = "region"
  type    = "string"
  default = "eu"
  mutable = true
}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    TASK_PROMPT       = data.coder_task.me.prompt
    SCRIPTED_AI_DELAY = "0.5"
  }
}
resource "coder_script" "agentapi" {
  agent_id     = coder_agent.main.id
  display_name = "AgentAPI"
  run_on_start = true
  script       = <<-EOT
    nohup berth agentapi --port ${port} --initial-prompt "$TASK_PROMPT" \\
      -- python3 ${root}/tests/support/scripted_ai.py > agentapi.log 2>&1 &
  EOT
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:${port}/"
  healthcheck {
    url       = "http://localhost:${port}/status"
    interval  = 1
    threshold = 30
  }
}
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=\${coder_agent.main.token}"]
}
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

// Starts `berth server` on a free port; resolves with its URL once it listens.
function startServer(dataDir: string): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(berth, ["server", "--http-address", "127.0.0.1:0", "--data-dir", dataDir], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let output = "";
    const timer = setTimeout(() => reject(new Error(`berth server did not start: ${output}`)), 30000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Started HTTP listener at (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, stop: () => child.kill("SIGTERM") });
      }
    });
    child.on("exit", (code: number | null) => reject(new Error(`berth server exited with ${code}: ${output}`)));
  });
}

interface Result<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

// Awaits a call, requires a 2xx status, and checks the body against the description.
async function ok<D>(method: string, path: string, call: Promise<Result<D>>): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok)
    throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(error)}`);
  checker.check(method, path, response.status, data ?? null);
  return data as D;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, seconds = 120): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function client(url: string, token?: string): Api {
  return createClient<paths>({
    baseUrl: `${url}/api/v2`,
    headers: token ? { "Coder-Session-Token": token } : {},
  });
}

async function waitForBuild(api: Api, buildId: string): Promise<Schemas["codersdk.WorkspaceBuild"]> {
  return eventually(`build ${buildId}`, async () => {
    const build = await ok(
      "GET",
      "/workspacebuilds/{workspacebuild}",
      api.GET("/workspacebuilds/{workspacebuild}", { params: { path: { workspacebuild: buildId } } }),
    );
    const status = build.job?.status;
    if (status === "failed" || status === "canceled") throw new Error(`build ${buildId} ${status}: ${build.job?.error}`);
    return status === "succeeded" ? build : undefined;
  });
}

async function build(api: Api, workspaceId: string, body: Schemas["codersdk.CreateWorkspaceBuildRequest"]) {
  const created = await ok(
    "POST",
    "/workspaces/{workspace}/builds",
    api.POST("/workspaces/{workspace}/builds", { params: { path: { workspace: workspaceId } }, body }),
  );
  return waitForBuild(api, created.id!);
}

async function session(url: string): Promise<void> {
  const anonymous = client(url);
  await ok("GET", "/buildinfo", anonymous.GET("/buildinfo"));
  await ok("GET", "/users/authmethods", anonymous.GET("/users/authmethods"));
  await ok("GET", "/appearance", anonymous.GET("/appearance"));

  // First user and login.
  await ok(
    "POST",
    "/users/first",
    anonymous.POST("/users/first", {
      body: { email: "admin@example.com", username: "admin", password, name: "Admin" } as Schemas["codersdk.CreateFirstUserRequest"],
    }),
  );
  await ok("GET", "/users/first", anonymous.GET("/users/first"));
  const login = await ok(
    "POST",
    "/users/login",
    anonymous.POST("/users/login", { body: { email: "admin@example.com", password } }),
  );
  const api = client(url, login.session_token);
  const me = await ok("GET", "/users/{user}", api.GET("/users/{user}", { params: { path: { user: "me" } } }));
  const orgs = await ok("GET", "/organizations", api.GET("/organizations"));
  const org = orgs[0]!.id!;
  await ok("GET", "/organizations/{organization}", api.GET("/organizations/{organization}", { params: { path: { organization: org } } }));
  await ok("GET", "/entitlements", api.GET("/entitlements"));
  await ok("GET", "/experiments", api.GET("/experiments"));
  await ok("GET", "/regions", api.GET("/regions"));
  await ok("GET", "/templates/examples", api.GET("/templates/examples"));
  await ok("GET", "/users/{user}/login-type", api.GET("/users/{user}/login-type", { params: { path: { user: "me" } } }));
  await ok(
    "POST",
    "/authcheck",
    api.POST("/authcheck", {
      body: { checks: { read_all: { object: { resource_type: "workspace" }, action: "read" } } },
    }),
  );

  // Template push and import.
  const port = await freePort();
  const archive = tar({ "main.tf": template(port) });
  const file = await ok(
    "POST",
    "/files",
    api.POST("/files", {
      params: { header: { "Content-Type": "application/x-tar" } },
      body: archive as never,
      bodySerializer: (b: unknown) => b as BodyInit,
      headers: { "Content-Type": "application/x-tar" },
    }),
  );
  const version = await ok(
    "POST",
    "/organizations/{organization}/templateversions",
    api.POST("/organizations/{organization}/templateversions", {
      params: { path: { organization: org } },
      body: { storage_method: "file", provisioner: "terraform", file_id: file.hash! } as Schemas["codersdk.CreateTemplateVersionRequest"],
    }),
  );
  await eventually("the import", async () => {
    const v = await ok(
      "GET",
      "/templateversions/{templateversion}",
      api.GET("/templateversions/{templateversion}", { params: { path: { templateversion: version.id! } } }),
    );
    if (v.job?.status === "failed") throw new Error(`import failed: ${v.job.error}`);
    return v.job?.status === "succeeded" ? v : undefined;
  });
  const tv = { params: { path: { templateversion: version.id! } } };
  await ok("GET", "/templateversions/{templateversion}/logs", api.GET("/templateversions/{templateversion}/logs", tv));
  await ok("GET", "/templateversions/{templateversion}/rich-parameters", api.GET("/templateversions/{templateversion}/rich-parameters", tv));
  await ok("GET", "/templateversions/{templateversion}/resources", api.GET("/templateversions/{templateversion}/resources", tv));
  await ok("GET", "/templateversions/{templateversion}/variables", api.GET("/templateversions/{templateversion}/variables", tv));
  await ok("GET", "/templateversions/{templateversion}/presets", api.GET("/templateversions/{templateversion}/presets", tv));
  await ok("GET", "/templateversions/{templateversion}/external-auth", api.GET("/templateversions/{templateversion}/external-auth", tv));
  await ok("GET", "/files/{fileID}", api.GET("/files/{fileID}", { params: { path: { fileID: file.hash! } }, parseAs: "arrayBuffer" }) as never);
  const tmpl = await ok(
    "POST",
    "/organizations/{organization}/templates",
    api.POST("/organizations/{organization}/templates", {
      params: { path: { organization: org } },
      body: { name: "session", template_version_id: version.id! } as Schemas["codersdk.CreateTemplateRequest"],
    }),
  );
  await ok("GET", "/templates", api.GET("/templates"));
  await ok("GET", "/templates/{template}", api.GET("/templates/{template}", { params: { path: { template: tmpl.id! } } }));
  await ok("GET", "/templates/{template}/versions", api.GET("/templates/{template}/versions", { params: { path: { template: tmpl.id! } } }));
  await ok(
    "GET",
    "/templates/{template}/versions/{templateversionname}",
    api.GET("/templates/{template}/versions/{templateversionname}", {
      params: { path: { template: tmpl.id!, templateversionname: version.name! } },
    }),
  );
  await ok(
    "PATCH",
    "/templates/{template}",
    api.PATCH("/templates/{template}", {
      params: { path: { template: tmpl.id! } },
      body: { display_name: "Session", description: "The compat session's template" } as Schemas["codersdk.UpdateTemplateMeta"],
    }),
  );
  await ok("GET", "/organizations/{organization}/templates", api.GET("/organizations/{organization}/templates", { params: { path: { organization: org } } }));
  await ok(
    "GET",
    "/organizations/{organization}/templates/{templatename}",
    api.GET("/organizations/{organization}/templates/{templatename}", { params: { path: { organization: org, templatename: "session" } } }),
  );
  await ok(
    "GET",
    "/organizations/{organization}/templates/{templatename}/versions/{templateversionname}",
    api.GET("/organizations/{organization}/templates/{templatename}/versions/{templateversionname}", {
      params: { path: { organization: org, templatename: "session", templateversionname: version.name! } },
    }),
  );

  // A workspace: create, watch, parameters, logs, stop, start, schedule, delete.
  const ws = await ok(
    "POST",
    "/users/{user}/workspaces",
    api.POST("/users/{user}/workspaces", {
      params: { path: { user: "me" } },
      body: {
        name: "dev",
        template_id: tmpl.id!,
        rich_parameter_values: [{ name: "region", value: "us" }],
      } as Schemas["codersdk.CreateWorkspaceRequest"],
    }),
  );
  const wsPath = { params: { path: { workspace: ws.id! } } };
  const watch = await api.GET("/workspaces/{workspace}/watch", { ...wsPath, parseAs: "stream" });
  if (!watch.response.ok || !watch.response.body) throw new Error(`watch: HTTP ${watch.response.status}`);
  // Server-sent events: read until the first `data:` line (a heartbeat may come first).
  const reader = watch.response.body.getReader();
  let events = "";
  const decoder = new TextDecoder();
  const watchDeadline = Date.now() + 30000;
  while (!events.includes("data:") && Date.now() < watchDeadline) {
    const chunk = await reader.read();
    if (chunk.done) break;
    events += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel();
  if (!events.includes("data:")) throw new Error(`watch sent no event: ${JSON.stringify(events)}`);
  checker.requests++;
  const started = await waitForBuild(api, ws.latest_build!.id!);
  await ok("GET", "/workspaces", api.GET("/workspaces", { params: { query: { q: "owner:me" } } }));
  await ok("GET", "/workspaces/{workspace}", api.GET("/workspaces/{workspace}", wsPath));
  await ok(
    "GET",
    "/users/{user}/workspace/{workspacename}",
    api.GET("/users/{user}/workspace/{workspacename}", { params: { path: { user: "me", workspacename: "dev" } } }),
  );
  const wb = { params: { path: { workspacebuild: started.id! } } };
  await ok("GET", "/workspacebuilds/{workspacebuild}/logs", api.GET("/workspacebuilds/{workspacebuild}/logs", wb));
  await ok("GET", "/workspacebuilds/{workspacebuild}/parameters", api.GET("/workspacebuilds/{workspacebuild}/parameters", wb));
  await ok("GET", "/workspacebuilds/{workspacebuild}/resources", api.GET("/workspacebuilds/{workspacebuild}/resources", wb));
  await ok("GET", "/workspaces/{workspace}/builds", api.GET("/workspaces/{workspace}/builds", wsPath));
  await ok("GET", "/workspaces/{workspace}/timings", api.GET("/workspaces/{workspace}/timings", wsPath));
  await ok("GET", "/workspacebuilds/{workspacebuild}/timings", api.GET("/workspacebuilds/{workspacebuild}/timings", wb));
  await ok(
    "GET",
    "/users/{user}/workspace/{workspacename}/builds/{buildnumber}",
    api.GET("/users/{user}/workspace/{workspacename}/builds/{buildnumber}", {
      params: { path: { user: "me", workspacename: "dev", buildnumber: String(started.build_number) } },
    }),
  );
  const agentId = started.resources?.flatMap((r) => r.agents ?? [])[0]?.id;
  if (!agentId) throw new Error("the build has no agent");
  const agentPath = { params: { path: { workspaceagent: agentId } } };
  await eventually("the agent to connect", async () => {
    const a = await ok("GET", "/workspaceagents/{workspaceagent}", api.GET("/workspaceagents/{workspaceagent}", agentPath));
    return a.status === "connected" && a.lifecycle_state === "ready" ? a : undefined;
  });
  await ok("GET", "/workspaceagents/{workspaceagent}/logs", api.GET("/workspaceagents/{workspaceagent}/logs", agentPath));
  await ok("PUT", "/workspaces/{workspace}/favorite", api.PUT("/workspaces/{workspace}/favorite", wsPath));
  await ok("DELETE", "/workspaces/{workspace}/favorite", api.DELETE("/workspaces/{workspace}/favorite", wsPath));
  await ok("PUT", "/workspaces/{workspace}/autoupdates", api.PUT("/workspaces/{workspace}/autoupdates", { ...wsPath, body: { automatic_updates: "never" } }));
  await ok("GET", "/users/{user}/autofill-parameters", api.GET("/users/{user}/autofill-parameters", { params: { path: { user: "me" }, query: { template_id: tmpl.id! } } }));
  await ok("PUT", "/workspaces/{workspace}/autostart", api.PUT("/workspaces/{workspace}/autostart", { ...wsPath, body: { schedule: "CRON_TZ=Europe/Berlin 30 9 * * 1-5" } }));
  await ok("PUT", "/workspaces/{workspace}/ttl", api.PUT("/workspaces/{workspace}/ttl", { ...wsPath, body: { ttl_ms: 8 * 3600 * 1000 } }));
  await build(api, ws.id!, { transition: "stop" });
  await build(api, ws.id!, { transition: "start", rich_parameter_values: [{ name: "region", value: "eu" }] });
  await ok("GET", "/workspaces/{workspace}/resolve-autostart", api.GET("/workspaces/{workspace}/resolve-autostart", wsPath));
  const later = new Date(Date.now() + 10 * 3600 * 1000).toISOString();
  await ok("PUT", "/workspaces/{workspace}/extend", api.PUT("/workspaces/{workspace}/extend", { ...wsPath, body: { deadline: later } }));
  await ok("GET", "/workspaces/{workspace}", api.GET("/workspaces/{workspace}", wsPath));
  await build(api, ws.id!, { transition: "delete" });

  // A task: create, wait for the app, send, logs, pause, resume, delete.
  const task = await ok(
    "POST",
    "/tasks/{user}",
    api.POST("/tasks/{user}", {
      params: { path: { user: "me" } },
      body: { template_version_id: version.id!, input: "Write the README", name: "readme" } as Schemas["codersdk.CreateTaskRequest"],
    }),
  );
  const taskPath = { params: { path: { user: "me", task: task.id! } } };
  const idle = () =>
    eventually("the task to be idle", async () => {
      const t = await ok("GET", "/tasks/{user}/{task}", api.GET("/tasks/{user}/{task}", taskPath));
      return t.status === "active" && t.current_state?.state === "idle" ? t : undefined;
    });
  await idle();
  await ok("GET", "/tasks", api.GET("/tasks"));
  await ok("GET", "/tasks/{user}/{task}/logs", api.GET("/tasks/{user}/{task}/logs", taskPath));
  await ok("POST", "/tasks/{user}/{task}/send", api.POST("/tasks/{user}/{task}/send", { ...taskPath, body: { input: "Add a changelog" } }));
  await eventually("the reply", async () => {
    const logs = await ok("GET", "/tasks/{user}/{task}/logs", api.GET("/tasks/{user}/{task}/logs", taskPath));
    return logs.logs?.some((l) => l.content?.includes("Done (turn 2)")) ? logs : undefined;
  });
  // pause and resume are newer than this API description: plain requests.
  const headers = { "Coder-Session-Token": login.session_token! };
  for (const [verb, status] of [["pause", "paused"], ["resume", "active"]] as const) {
    const r = await fetch(`${url}/api/v2/tasks/me/${task.id}/${verb}`, { method: "POST", headers });
    if (r.status !== 202) throw new Error(`${verb}: HTTP ${r.status} ${await r.text()}`);
    checker.requests++;
    checker.unchecked.push(`POST /tasks/{user}/{task}/${verb} → 202`);
    await eventually(`the task to be ${status}`, async () => {
      const t = await ok("GET", "/tasks/{user}/{task}", api.GET("/tasks/{user}/{task}", taskPath));
      return t.status === status ? t : undefined;
    });
    if (verb === "pause") {
      const logs = await ok("GET", "/tasks/{user}/{task}/logs", api.GET("/tasks/{user}/{task}/logs", taskPath));
      if (!logs.logs?.some((l) => l.content?.includes("Done (turn 2)")))
        throw new Error(`a paused task's logs lack the conversation: ${JSON.stringify(logs)}`);
    }
  }
  await idle();
  const deleted = await api.DELETE("/tasks/{user}/{task}", taskPath);
  if (deleted.response.status !== 202) throw new Error(`delete task: HTTP ${deleted.response.status}`);
  checker.requests++;
  await eventually("the task's workspace to go", async () => {
    const r = await api.GET("/workspaces/{workspace}", { params: { path: { workspace: task.workspace_id! } } });
    return r.response.status === 410 ? true : undefined;
  });

  // Users and tokens.
  const member = await ok(
    "POST",
    "/users",
    api.POST("/users", {
      body: { email: "bob@example.com", username: "bob", password, organization_ids: [org] } as Schemas["codersdk.CreateUserRequestWithOrgs"],
    }),
  );
  await ok("GET", "/users", api.GET("/users", { params: { query: { q: "status:active" } } }));
  await ok("GET", "/users/{user}", api.GET("/users/{user}", { params: { path: { user: member.id! } } }));
  await ok("PUT", "/users/{user}/roles", api.PUT("/users/{user}/roles", { params: { path: { user: "bob" } }, body: { roles: ["template-admin"] } }));
  await ok("GET", "/organizations/{organization}/members", api.GET("/organizations/{organization}/members", { params: { path: { organization: org } } }));
  await ok("GET", "/users/{user}/roles", api.GET("/users/{user}/roles", { params: { path: { user: "bob" } } }));
  await ok("GET", "/users/{user}/organizations", api.GET("/users/{user}/organizations", { params: { path: { user: "me" } } }));
  await ok("GET", "/users/{user}/quiet-hours", api.GET("/users/{user}/quiet-hours", { params: { path: { user: "me" } } }));
  await ok("GET", "/users/{user}/keys/tokens/tokenconfig", api.GET("/users/{user}/keys/tokens/tokenconfig", { params: { path: { user: "me" } } }));
  await ok("POST", "/users/{user}/keys/tokens", api.POST("/users/{user}/keys/tokens", { params: { path: { user: "me" } }, body: { token_name: "ci", lifetime: 3600e9 } as Schemas["codersdk.CreateTokenRequest"] }));
  const tokens = await ok("GET", "/users/{user}/keys/tokens", api.GET("/users/{user}/keys/tokens", { params: { path: { user: "me" } } }));
  await ok("GET", "/users/{user}/keys/tokens/{keyname}", api.GET("/users/{user}/keys/tokens/{keyname}", { params: { path: { user: "me", keyname: "ci" } } }));
  const removed = await api.DELETE("/users/{user}/keys/{keyid}", { params: { path: { user: "me", keyid: tokens[0]!.id! } } });
  if (removed.response.status !== 204) throw new Error(`delete token: HTTP ${removed.response.status}`);
  checker.requests++;
  void me;
}

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), "berth-compat-"));
  const server = await startServer(dataDir);
  try {
    await session(server.url);
  } finally {
    server.stop();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const m of checker.mismatches) {
    console.log(`MISMATCH ${m.request}`);
    for (const p of m.problems.slice(0, 20)) console.log(`  ${p}`);
  }
  for (const u of checker.unchecked) console.log(`not in Coder's API description: ${u}`);
  const decoded = checker.requests - checker.mismatches.length;
  console.log(`compat: ${checker.requests} requests, ${decoded} decoded with Coder's types`);
  console.log(`${decoded} passed, ${checker.mismatches.length} failed`);
  return checker.mismatches.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
