// The workspace page and the web terminal in a real browser: a workspace of the local-minimal
// example (created with the CLI) followed live through its build, its agent, its app, a
// terminal session that survives a reload, stop and start, its schedule, favorite, rename and
// deletion.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pushExample, screenshot, setup } from "./support.mjs";

const spec = setup({
  cli: true,
  prepare: async ({ cli }) => {
    await pushExample(cli, "local-minimal");
    await cli("create", "dev", "-t", "local-minimal", "-y");
  },
});

const getWorkspace = (name) => spec.api("GET", `/users/admin/workspace/${name}`);

// The summary's status badge, which the watch stream keeps current.
const statusBadge = (page, text) => page.locator(".workspace-summary .badge", { hasText: text });

test("the workspace page follows a workspace through its life, and its terminal keeps its session", async () => {
  const { page, context, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/@admin/dev");
  await page.getByRole("heading", { name: "dev", exact: true }).waitFor();
  await statusBadge(page, "Running").waitFor();
  await page.locator(".workspace-summary").getByRole("link", { name: "local-minimal" }).waitFor();

  // The current build's logs, stage by stage.
  const buildLogs = page.getByLabel(/^Logs of build \d+$/);
  await buildLogs.locator(".stage").first().waitFor();
  await buildLogs.getByText("berth_process.workspace", { exact: false }).first().waitFor();

  // The agent connected and ready, its startup script's line in its logs.
  const agent = page.locator("article.agent", { has: page.getByRole("heading", { name: "main" }) });
  await agent.locator(".badge", { hasText: "Connected" }).waitFor();
  await agent.locator(".badge", { hasText: "Ready" }).waitFor();
  await page.getByLabel("Startup logs of main").getByText("Hello from dev, owned by admin").waitFor();
  // The agent's metadata: the Load block's value (`cat /proc/loadavg`), from its watch stream.
  const metadata = agent.getByLabel("Metadata of main");
  await metadata.getByText("Load", { exact: true }).waitFor();
  await metadata.getByText(/^\d+\.\d+ \d+\.\d+ \d+\.\d+ \d+\/\d+ \d+$/).waitFor();
  await agent.locator(".badge", { hasText: "healthy" }).waitFor();
  await screenshot(page, "workspace");

  // The app, through the path-based proxy, in a new tab.
  const web = agent.getByRole("link", { name: "Web" });
  assert.equal(await web.getAttribute("href"), "/@admin/dev.main/apps/web/");
  const [tab] = await Promise.all([context.waitForEvent("page"), web.click()]);
  await tab.getByText("It works").waitFor();
  await tab.close();

  // The terminal: a command and its output, and the same session again after a reload.
  await agent.getByRole("link", { name: "Terminal" }).click();
  await page.waitForURL(/\/@admin\/dev\/terminal\?agent=main&reconnect=[0-9a-f-]{36}$/);
  const reconnectUrl = page.url();
  await page.getByRole("status").getByText("Connected").waitFor();
  const screen = page.locator(".xterm-rows");
  await page.locator(".xterm").click();
  await page.keyboard.type("echo hello-$((6*7))");
  await page.keyboard.press("Enter");
  await screen.getByText("hello-42").first().waitFor();
  await screenshot(page, "terminal");
  await page.reload();
  await page.getByRole("status").getByText("Connected").waitFor();
  assert.equal(page.url(), reconnectUrl);
  await screen.getByText("hello-42").first().waitFor();

  // The terminal's size follows the window: the shell sees the new columns.
  const sizes = async () => [...(await screen.innerText()).matchAll(/^(\d+) (\d+)\s*$/gm)].map((m) => m[2]);
  await page.keyboard.type("stty size");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /^\d+ \d+\s*$/m.test(document.querySelector(".xterm-rows").innerText));
  const [wide] = await sizes();
  const rows = await page.locator(".xterm-rows > div").count();
  await page.setViewportSize({ width: 700, height: 600 });
  await page.waitForFunction((before) => document.querySelectorAll(".xterm-rows > div").length !== before, rows);
  await page.keyboard.type("stty size");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => (document.querySelector(".xterm-rows").innerText.match(/^\d+ \d+\s*$/gm) ?? []).length >= 2);
  const narrow = (await sizes())[1];
  assert.ok(Number(narrow) < Number(wide), `columns ${wide} → ${narrow}`);
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.getByRole("link", { name: "Back to workspace" }).click();
  await page.waitForURL("**/@admin/dev");

  // The schedule: autostart Mon–Fri 09:00 in Berlin, autostop after 8 hours.
  await page.getByLabel("Enable autostart").check();
  await page.getByLabel("Start time").fill("09:00");
  await page.getByLabel("Time zone").selectOption("Europe/Berlin");
  for (const day of ["Mon", "Tue", "Wed", "Thu", "Fri"]) await page.getByLabel(day, { exact: true }).check();
  for (const day of ["Sat", "Sun"]) await page.getByLabel(day, { exact: true }).uncheck();
  await page.getByLabel("Enable autostop").check();
  await page.getByLabel("Time until shutdown (hours)").fill("8");
  await page.getByRole("button", { name: "Save schedule" }).click();
  await page.getByText("Schedule saved.").waitFor();
  await page.getByTestId("schedule-summary")
    .getByText("Starts at 09:00 on Mon–Fri (Europe/Berlin). Stops 8 hours after it starts.").waitFor();
  const scheduled = await getWorkspace("dev");
  assert.equal(scheduled.autostart_schedule, "CRON_TZ=Europe/Berlin 0 9 * * 1-5");
  assert.equal(scheduled.ttl_ms, 8 * 3600 * 1000);
  // Read back after a reload too: the form shows what the server holds.
  await page.reload();
  await page.getByTestId("schedule-summary").getByText("Starts at 09:00 on Mon–Fri (Europe/Berlin).").waitFor();
  assert.equal(await page.getByLabel("Time zone").inputValue(), "Europe/Berlin");
  assert.equal(await page.getByLabel("Start time").inputValue(), "09:00");
  assert.ok(await page.getByLabel("Sat", { exact: true }).isChecked() === false);
  assert.equal(await page.getByLabel("Time until shutdown (hours)").inputValue(), "8");

  // Stop and Start, each seen live.
  await statusBadge(page, "Running").waitFor();
  await page.getByRole("button", { name: "Stop", exact: true }).click();
  await statusBadge(page, "Stopped").waitFor();
  assert.equal((await getWorkspace("dev")).latest_build.transition, "stop");
  await page.getByText("This build has no resources.").waitFor();
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await statusBadge(page, "Running").waitFor();
  const started = await getWorkspace("dev");
  assert.equal(started.latest_build.transition, "start");

  // The new build stops after the 8 hours set above; extend today's stop by an hour.
  const deadline = Date.parse(started.latest_build.deadline);
  assert.ok(deadline > Date.now() + 7 * 3600 * 1000, started.latest_build.deadline);
  await page.getByLabel("Extend today's stop by (hours)").fill("1");
  await page.getByRole("button", { name: "Extend", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Deadline updated to" }).waitFor();
  const extended = await getWorkspace("dev");
  assert.equal(Date.parse(extended.latest_build.deadline), deadline + 3600 * 1000);

  // Restart: a stop build, then a start build.
  await page.getByRole("button", { name: "Restart" }).click();
  await page.getByRole("row").filter({ hasText: `#${started.latest_build.build_number + 2}` })
    .filter({ hasText: "start" }).waitFor();
  await statusBadge(page, "Running").waitFor();
  const restarted = await getWorkspace("dev");
  assert.equal(restarted.latest_build.build_number, started.latest_build.build_number + 2);

  // An earlier build's logs from the history.
  await page.getByRole("button", { name: `View logs of #${started.latest_build.build_number - 1}` }).click();
  await page.getByRole("heading", { name: `Build #${started.latest_build.build_number - 1} logs (stop)` }).waitFor();

  // A new template version makes the workspace outdated; Update builds on it.
  await pushExample(spec.cli, "local-minimal");
  await page.reload();
  await page.locator(".workspace-summary .badge", { hasText: "Outdated" }).waitFor();
  const active = (await spec.api("GET", `/templates/${restarted.template_id}`)).active_version_id;
  await page.getByRole("button", { name: "Update", exact: true }).click();
  await page.getByRole("row").filter({ hasText: `#${restarted.latest_build.build_number + 1}` }).waitFor();
  await statusBadge(page, "Running").waitFor();
  await page.locator(".workspace-summary .badge", { hasText: "Outdated" }).waitFor({ state: "detached" });
  const updated = await getWorkspace("dev");
  assert.equal(updated.latest_build.template_version_id, active);
  assert.equal(updated.outdated, false);

  // Favorite.
  await page.getByRole("button", { name: "Favorite", exact: true }).click();
  await page.getByRole("button", { name: "Unfavorite", exact: true }).waitFor();
  assert.equal((await getWorkspace("dev")).favorite, true);

  // Rename: the address follows the new name.
  await page.getByLabel("Workspace name").fill("dev2");
  await page.getByRole("button", { name: "Rename" }).click();
  await page.waitForURL("**/@admin/dev2");
  await page.getByRole("heading", { name: "dev2", exact: true }).waitFor();
  assert.equal((await getWorkspace("dev2")).name, "dev2");

  // Delete, after typing the name.
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Delete workspace" });
  const confirm = dialog.getByRole("button", { name: "Delete", exact: true });
  assert.equal(await confirm.isDisabled(), true);
  await dialog.getByLabel("Type dev2 to confirm").fill("dev2");
  await confirm.click();
  await page.getByText("This workspace was deleted.").waitFor();
  const left = await spec.api("GET", "/workspaces?q=owner:admin");
  assert.equal(left.count, 0);
  expectNoConsoleErrors();
});

test("the workspace page at 375 px in the dark theme", async () => {
  await spec.cli("create", "narrow", "-t", "local-minimal", "-y");
  const { page, expectNoConsoleErrors } = await spec.asOwner({ viewport: { width: 375, height: 800 }, colorScheme: "dark" });
  await page.goto("/@admin/narrow");
  await statusBadge(page, "Running").waitFor();
  await page.getByLabel("Startup logs of main").getByText("Hello from narrow").waitFor();
  // Nothing wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 375, `page is ${overflow} px wide`);
  await screenshot(page, "workspace-narrow-dark");
  await page.getByRole("link", { name: "Terminal" }).click();
  await page.getByRole("status").getByText("Connected").waitFor();
  await screenshot(page, "terminal-narrow-dark");
  expectNoConsoleErrors();
});

test("a workspace that does not exist says so", async () => {
  const { page, expectNoConsoleErrors } = await spec.asOwner();
  await page.goto("/@admin/nope");
  await page.getByRole("alert").waitFor();
  await page.goto("/@admin/nope/terminal");
  await page.getByRole("alert").waitFor();
  expectNoConsoleErrors();
});
