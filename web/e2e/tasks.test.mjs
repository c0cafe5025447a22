// Tasks in a real browser: start one from the prompt box with the tasks-local example (its agent
// program is `sh`, a shell standing in for an AI agent: the prompt and every input are typed into
// it and its output is the answer), read the answer, send input, pause, resume, delete.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { screenshot, setup, sourceDir } from "./support.mjs";

// Starting, answering and stopping a workspace with a real agent takes a while on a busy machine.
const slow = { timeout: 180000 };

const spec = setup({ cli: true, prepare: ({ cli }) => pushTasksTemplate(cli) });

async function freePort() {
  const listener = createServer();
  await new Promise((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address();
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

// Pushes examples/templates/tasks-local as "tasks", as pushExample would, but with agentapi on a
// port of its own: the example's fixed 3284 is shared by every task workspace on this machine,
// and other test suites run tasks beside this one.
async function pushTasksTemplate(cli) {
  const dir = mkdtempSync(join(tmpdir(), "tasks-template-"));
  const text = readFileSync(join(sourceDir, "examples/templates/tasks-local/main.tf"), "utf8");
  writeFileSync(join(dir, "main.tf"), text.replaceAll("3284", String(await freePort())));
  await cli("templates", "push", "tasks", "-d", dir, "-y");
}

const statusOf = (page) => page.locator(".task-summary dd:first-of-type");
const answer = (page, text) => page.locator(".conversation .message.output", { hasText: text });

test("create a task from the prompt box, read its answer, send input, pause, resume and delete it", async () => {
  const { page, expectNoConsoleErrors } = await spec.signedIn();
  await page.getByRole("link", { name: "Tasks" }).click();
  await page.waitForURL("**/tasks");
  await page.getByText("No tasks yet").waitFor();

  // A bad name is the API's error, shown on the form.
  await page.getByLabel("Prompt").fill("echo task-says-$((40+2))");
  await page.getByLabel("Template").selectOption({ label: "tasks" });
  await page.getByLabel("Name (optional)").fill("Not a valid name!");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator(".task-form .alert.error", { hasText: "Unable to create a Task with the provided name." }).waitFor();

  await page.getByLabel("Name (optional)").fill("");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/\/tasks\/admin\/[^/]+$/);
  const name = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  await page.getByRole("heading", { name: "Echo task-says-$((40+2))" }).waitFor();
  await page.locator(".task-prompt-text", { hasText: "echo task-says-$((40+2))" }).waitFor();

  // Live: the status reaches Active and the shell's answer arrives without a reload.
  await statusOf(page).filter({ hasText: "Active" }).waitFor(slow);
  await answer(page, "task-says-42").waitFor(slow);
  await page.locator(".conversation .message.input", { hasText: "echo task-says-$((40+2))" }).waitFor();
  const task = await spec.api("GET", `/tasks/admin/${name}`);
  assert.equal(task.status, "active");
  assert.equal(
    await page.getByRole("link", { name: `View workspace ${task.workspace_name}` }).getAttribute("href"),
    `/@admin/${task.workspace_name}`,
  );

  // Input goes to the agent once it is idle (the Send button waits for that).
  await page.locator(".task-summary").getByText("Waiting for input").waitFor(slow);
  await page.getByLabel("Input").fill("echo more-$((1+1))");
  await page.getByRole("button", { name: "Send" }).click(slow);
  await page.locator(".conversation .message.input", { hasText: "echo more-$((1+1))" }).waitFor(slow);
  await answer(page, "more-2").waitFor(slow);
  assert.equal(await page.getByLabel("Input").inputValue(), "");
  await screenshot(page, "task");

  // Pause stops the workspace; the saved conversation is still shown.
  await page.getByRole("button", { name: "Pause" }).click();
  await statusOf(page).filter({ hasText: "Paused" }).waitFor(slow);
  const paused = await spec.api("GET", `/workspaces/${task.workspace_id}`);
  assert.equal(paused.latest_build.status, "stopped");
  assert.equal(paused.latest_build.transition, "stop");
  await page.getByText("Saved conversation").waitFor(slow);
  await answer(page, "more-2").waitFor();
  assert.ok(await page.getByRole("button", { name: "Send" }).isDisabled());

  // Resume starts it again; the shell is back and answers.
  await page.getByRole("button", { name: "Resume" }).click();
  await statusOf(page).filter({ hasText: "Active" }).waitFor(slow);
  await page.getByRole("button", { name: "Pause" }).waitFor();
  await answer(page, "task-says-42").waitFor(slow);

  // The list shows the task with its status and state, and follows its workspace live: a pause
  // made elsewhere (the CLI) shows up without a reload.
  await page.getByRole("link", { name: "All tasks" }).click();
  await page.waitForURL("**/tasks");
  const row = page.locator(".tasks-table tbody tr", { hasText: "Echo task-says-$((40+2))" });
  await row.filter({ hasText: "Active" }).waitFor(slow);
  await row.getByText("tasks", { exact: true }).waitFor();
  await screenshot(page, "tasks");
  await spec.cli("tasks", "pause", name, "-y");
  await row.filter({ hasText: "Paused" }).waitFor(slow);

  // Narrow and dark, while it is there.
  const narrow = await spec.signedIn({ viewport: { width: 375, height: 800 }, colorScheme: "dark" });
  await narrow.page.goto(`/tasks/admin/${name}`);
  await answer(narrow.page, "task-says-42").waitFor(slow);
  await screenshot(narrow.page, "task-narrow-dark");
  await narrow.page.goto("/tasks");
  await narrow.page.locator(".tasks-table tbody tr").first().waitFor();
  await screenshot(narrow.page, "tasks-narrow-dark");
  const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the list is ${overflow}px wider than a 375 px screen`);
  narrow.expectNoConsoleErrors();
  await narrow.context.close();

  // Delete asks first, naming the task, then it is gone from the list.
  await row.getByRole("link", { name: "Echo task-says-$((40+2))" }).click();
  await page.waitForURL(`**/tasks/admin/${name}`);
  await page.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete task" });
  await dialog.getByText(task.workspace_name).waitFor();
  assert.match(await dialog.innerText(), /Echo task-says-\$\(\(40\+2\)\)/);
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.waitForURL("**/tasks");
  await page.getByText("No tasks yet").waitFor();
  const remaining = await spec.api("GET", "/tasks");
  assert.equal(remaining.count, 0);
  expectNoConsoleErrors();
});
