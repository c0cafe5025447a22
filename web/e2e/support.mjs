// What every dashboard browser test needs: a real `berth server` on a free loopback port with
// its data in the test's own temporary directory, the `berth` CLI signed in to it, Debian's
// Chromium through playwright-core, console errors collected, and screenshots written.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const berth = process.env.BERTH_BINARY;
export const sourceDir = process.env.BERTH_SOURCE_DIR;
const shots = process.env.BERTH_E2E_SHOTS ?? join(tmpdir(), "berth-e2e-shots");
if (!berth || !sourceDir) throw new Error("run through web/e2e/run.sh");

export const owner = { email: "admin@example.com", username: "admin", password: "SomeStr0ng!Passw0rd" };

// Starts `berth server`; resolves once it listens. `stop()` ends it (SIGTERM, then SIGKILL).
export function startServer(extraFlags = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "server-"));
  const args = ["server", "--http-address", "127.0.0.1:0", "--data-dir", dataDir,
    "--dangerous-disable-rate-limits", "--agent-stats-refresh-interval", "1s", ...extraFlags];
  const child = spawn(berth, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth server did not start: ${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk;
      const match = /Started HTTP listener at (\S+)/.exec(output);
      const ui = /View the Web UI: (\S+)/.exec(output);
      if (match && ui) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          dataDir,
          output: () => output,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once("exit", done);
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 10000).unref();
            }),
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c) => (output += c));
    child.once("exit", (code) => reject(new Error(`berth server exited (${code}): ${output}`)));
  });
}

// A JSON request to the server's API with a session token; throws on a non-2xx answer.
export async function apiCall(url, token, method, path, body) {
  const headers = { "Coder-Session-Token": token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url + "/api/v2" + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

// Creates the first user through the API (for tests that do not test the setup form).
export async function createOwner(url) {
  await apiCall(url, "", "POST", "/users/first", { ...owner, trial: false });
  const { session_token } = await apiCall(url, "", "POST", "/users/login", { email: owner.email, password: owner.password });
  return session_token;
}

// Runs the `berth` CLI against the server with its own config directory, signed in with `token`.
export async function cliFor(url, token) {
  const config = mkdtempSync(join(tmpdir(), "cli-"));
  const env = { ...process.env, CODER_CONFIG_DIR: config };
  const run = async (...args) => {
    const { stdout } = await promisify(execFile)(berth, args, { env, timeout: 120000 });
    return stdout;
  };
  await run("login", url, "--token", token);
  return run;
}

// Pushes one of the repository's example templates with the CLI (`berth templates push`).
export async function pushExample(cli, name, example = name) {
  await cli("templates", "push", name, "-d", join(sourceDir, "examples/templates", example), "-y");
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

// A browser page on the server that records console errors and failed page errors; call
// `expectNoConsoleErrors()` at the end. `options` go to browser.newContext (colorScheme, viewport).
export async function openPage(browser, url, options = {}) {
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => {
    // Chromium logs every 4xx answer to fetch as an error; the page shows those itself, and a
    // test that expects one checks the page. Anything else (5xx, exceptions, CSP) counts.
    const text = message.text();
    if (message.type() !== "error" || /status of 4\d\d/.test(text)) return;
    errors.push(`${page.url()}: ${text}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  page.setDefaultTimeout(30000);
  return {
    page,
    context,
    errors,
    expectNoConsoleErrors() {
      if (errors.length) throw new Error("console errors:\n" + errors.join("\n"));
    },
  };
}

// Saves a screenshot as <shots>/<name>.png.
export async function screenshot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name + ".png"), fullPage: true });
}

// Signs in through the login form.
export async function signInThroughForm(page, email, password) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

// A spec's server, browser and (with `owner`) first user, with the before/after hooks that
// start and stop them. `cli: true` also signs the CLI in as the owner; `prepare(spec)` then
// does the spec's own setup (pushing templates...): node runs top-level `before` hooks without
// waiting for one another, so a spec's steps that need these go there. What it returns is
// filled in once the hook has run: `url`, `browser`, `token`, `cli`, and shortcuts.
export function setup({ owner: withOwner = false, cli: withCli = false, flags = [], prepare } = {}) {
  const spec = {
    server: undefined,
    url: "",
    browser: undefined,
    token: "",
    cli: undefined,
    // An API call as the owner.
    api: (method, path, body) => apiCall(spec.url, spec.token, method, path, body),
    // A page of a new browser context (see openPage).
    open: (options) => openPage(spec.browser, spec.url, options),
    // A page whose browser context carries the owner's session cookie.
    asOwner: async (options) => {
      const opened = await openPage(spec.browser, spec.url, options);
      await opened.context.addCookies([{ name: "coder_session_token", value: spec.token, url: spec.url }]);
      return opened;
    },
    // A page signed in through the login form, as `as` (the owner by default); the other
    // options go to openPage.
    signedIn: async ({ as: who = owner, ...options } = {}) => {
      const opened = await openPage(spec.browser, spec.url, options);
      await signInThroughForm(opened.page, who.email, who.password);
      return opened;
    },
  };
  before(async () => {
    spec.server = await startServer(flags);
    spec.url = spec.server.url;
    spec.browser = await launchBrowser();
    if (withOwner || withCli) spec.token = await createOwner(spec.url);
    if (withCli) spec.cli = await cliFor(spec.url, spec.token);
    await prepare?.(spec);
  });
  after(async () => {
    await spec.browser?.close();
    await spec.server?.stop();
  });
  return spec;
}
