// Measures the dashboard from a real Chromium (run by bench/run_dashboard.sh): what the first
// page a signed-in user sees costs on the wire and how long until its content is on screen.
// Usage: node bench/dashboard_bench.mjs <server url> <email> <password>   (env RUNS)
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [url, email, password] = process.argv.slice(2);
const runs = Number(process.env.RUNS ?? 5);

const login = await fetch(url + "/api/v2/users/login", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ email, password }),
});
if (!login.ok) throw new Error("login failed: " + (await login.text()));
const { session_token: token } = await login.json();
const workspaces = await (
  await fetch(url + "/api/v2/workspaces?q=owner:me&limit=1", { headers: { "Coder-Session-Token": token } })
).json();
const first = workspaces.workspaces[0];

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

// One page load in a context with the session cookie; `ready` is a selector that says the
// page's content is there. Returns ms from navigation start to ready, and bytes by type.
async function measure(context, path, ready) {
  const page = await context.newPage();
  await page.goto(url + path, { waitUntil: "commit" });
  await page.waitForSelector(ready, { timeout: 30000 });
  const ms = await page.evaluate(() => performance.now());
  const bytes = await page.evaluate(() => {
    const out = { script: 0, css: 0, html: 0, api: 0 };
    const nav = performance.getEntriesByType("navigation")[0];
    if (nav) out.html += nav.transferSize;
    for (const e of performance.getEntriesByType("resource")) {
      if (e.initiatorType === "script" || e.name.endsWith(".js")) out.script += e.transferSize;
      else if (e.name.endsWith(".css")) out.css += e.transferSize;
      else out.api += e.transferSize;
    }
    return out;
  });
  await page.close();
  return { ms, bytes };
}

async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: "coder_session_token", value: token, url }]);
  return context;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => (n / 1024).toFixed(1) + " KB";

async function series(name, path, ready, warm) {
  const times = [];
  let bytes;
  for (let i = 0; i < runs; i++) {
    const context = await newContext();
    if (warm) await measure(context, path, ready);  // fills the cache
    const r = await measure(context, path, ready);
    times.push(r.ms);
    bytes = r.bytes;
    await context.close();
  }
  console.log(
    `${name.padEnd(48)} median ${median(times).toFixed(0).padStart(5)} ms  max ${Math.max(...times).toFixed(0).padStart(5)} ms  ` +
      `js ${kb(bytes.script)}  css ${kb(bytes.css)}  html ${kb(bytes.html)}  api ${kb(bytes.api)}`,
  );
}

console.log(`server ${url}, ${workspaces.count} workspaces of the owner's, ${runs} runs each`);
await series("floor: /healthz (one line of text)", "/healthz", "body", false);
await series("/workspaces, cold cache (first load)", "/workspaces", "table tbody tr a", false);
await series("/workspaces, warm cache", "/workspaces", "table tbody tr a", true);
await series(
  "/@owner/<workspace>, cold cache",
  `/@${first.owner_name}/${first.name}`,
  "h1",
  false,
);
await browser.close();
