// Templates, users and account settings in a real browser: the template list and a template's
// versions with their import logs, promoting a version, creating, suspending, activating a user
// and changing roles, API tokens and quiet hours.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { apiCall, owner, screenshot, setup, sourceDir } from "./support.mjs";

const member = { username: "member1", email: "member1@example.com", password: "An0ther!Str0ng-Passw0rd" };
const viewer = { username: "viewer", email: "viewer@example.com", password: "Th1rd!Str0ng-Passw0rd" };
const example = join(sourceDir, "examples/templates/local-minimal");

const spec = setup({ cli: true });

// Versions named v1 then v2 of local-minimal, pushed with the real CLI; v2 is the active one.
async function pushTwoVersions() {
  for (const [name, message] of [["v1", "First version"], ["v2", "Second version"]])
    await spec.cli("templates", "push", "local-minimal", "-d", example, "--name", name, "-m", message, "-y");
}

test("with no templates, the list tells how to push one with the CLI", async () => {
  const { page, context, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/templates");
  await page.getByRole("heading", { name: "No templates yet" }).waitFor();
  await page.getByText(`berth login ${spec.url}`).waitFor();
  await page.getByText("berth templates push my-template -d").waitFor();
  expectNoConsoleErrors();
  await context.close();
});

test("templates list, a template's versions with their import logs, and promoting an older version", async () => {
  await pushTwoVersions();
  const [template] = await spec.api("GET", "/templates?q=exact_name:local-minimal");
  const versions = await spec.api("GET", `/templates/${template.id}/versions`);
  const v1 = versions.find((v) => v.name === "v1");
  const v2 = versions.find((v) => v.name === "v2");
  assert.equal(template.active_version_id, v2.id);

  const { page, context, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/templates");
  const row = page.getByRole("row").filter({ hasText: "local-minimal" });
  await row.waitFor();
  assert.equal(
    await row.getByRole("link", { name: "Create workspace" }).getAttribute("href"),
    "/templates/local-minimal/workspace",
  );
  await screenshot(page, "templates");

  await row.getByRole("link", { name: "local-minimal", exact: true }).click();
  await page.waitForURL("**/templates/local-minimal");
  await page.getByRole("heading", { name: "local-minimal", level: 1 }).waitFor();
  assert.equal(
    await page.getByRole("link", { name: "Create workspace" }).getAttribute("href"),
    "/templates/local-minimal/workspace",
  );
  // Both versions, newest first, with status, author and message; v2 is active and selected.
  const v1Row = page.getByRole("row").filter({ has: page.getByRole("button", { name: "v1", exact: true }) });
  const v2Row = page.getByRole("row").filter({ has: page.getByRole("button", { name: "v2", exact: true }) });
  for (const [r, message] of [[v1Row, "First version"], [v2Row, "Second version"]]) {
    await r.getByText("Succeeded").waitFor();
    await r.getByText(message).waitFor();
    await r.getByText(owner.username).waitFor();
  }
  await v2Row.getByText("Active").waitFor();
  assert.equal(await v1Row.getByText("Active").count(), 0);
  await page.getByRole("heading", { name: "Version v2" }).waitFor();
  // The import logs the provisioner wrote, as the API has them.
  const v2Logs = await spec.api("GET", `/templateversions/${v2.id}/logs`);
  assert.ok(v2Logs.length > 0, "the import wrote logs");
  const lastLine = v2Logs.map((l) => l.output.trim()).filter(Boolean).at(-1);
  const logs = page.getByRole("log", { name: "Import logs of v2" });
  await logs.getByText(lastLine).first().waitFor();
  await page.getByText("berth templates push local-minimal -d").waitFor();
  await screenshot(page, "template");

  // Selecting v1 shows its logs; the selection is in the address.
  await page.getByRole("button", { name: "v1", exact: true }).click();
  await page.waitForURL("**/templates/local-minimal?version=v1");
  await page.getByRole("heading", { name: "Version v1" }).waitFor();
  await page.getByRole("log", { name: "Import logs of v1" }).locator(".line").first().waitFor();

  // Promote the older version: it becomes the active one, here and in the API.
  assert.equal(await v2Row.getByRole("button", { name: "Promote" }).count(), 0);
  await v1Row.getByRole("button", { name: "Promote version v1" }).click();
  await v1Row.getByText("Active").waitFor();
  await v2Row.getByRole("button", { name: "Promote version v2" }).waitFor();
  const promoted = await spec.api("GET", `/templates/${template.id}`);
  assert.equal(promoted.active_version_id, v1.id);
  expectNoConsoleErrors();
  await context.close();
});

test("owners create a user through the form, suspend and activate it, and give it a role", async () => {
  const { page, context, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/templates");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await page.waitForURL("**/users");
  await page.getByRole("row").filter({ hasText: owner.email }).waitFor();

  await page.getByRole("button", { name: "Create user" }).click();
  const form = page.getByRole("form", { name: "Create user" });
  await form.getByText("mix lowercase and uppercase letters").waitFor();
  await form.getByLabel("Username").fill(member.username);
  await form.getByLabel("Email").fill(member.email);
  await form.getByLabel("Password").fill("weak");
  await form.getByRole("button", { name: "Create user" }).click();
  // The API's verdict lands on the password field.
  const passwordError = form.locator("#new-password-error");
  await passwordError.waitFor();
  assert.ok((await passwordError.innerText()).length > 0);
  await form.getByLabel("Password").fill(member.password);
  await form.getByRole("button", { name: "Create user" }).click();
  await form.waitFor({ state: "detached" });
  const row = page.locator(`tr[data-username="${member.username}"]`);
  await row.getByText(member.email).waitFor();

  // Suspended (after a confirmation), the member can no longer sign in.
  await row.getByRole("button", { name: `Suspend ${member.username}` }).click();
  const dialog = page.getByRole("dialog", { name: `Suspend ${member.username}?` });
  await dialog.getByRole("button", { name: "Suspend" }).click();
  await row.getByText("Suspended").waitFor();
  const other = await spec.open();
  await other.page.goto("/login");
  await other.page.getByLabel("Email").fill(member.email);
  await other.page.getByLabel("Password").fill(member.password);
  await other.page.getByRole("button", { name: "Sign in" }).click();
  await other.page.getByRole("alert").filter({ hasText: "suspended" }).waitFor();

  // Activated again, they can.
  await row.getByRole("button", { name: `Activate ${member.username}` }).click();
  await row.getByText("Active", { exact: true }).waitFor();
  await other.page.getByRole("button", { name: "Sign in" }).click();
  await other.page.waitForURL("**/workspaces");
  other.expectNoConsoleErrors();
  await other.context.close();

  // Roles: template-admin, saved at once, still there after a reload.
  const roles = page.getByRole("group", { name: `Roles of ${member.username}` });
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/roles") && r.request().method() === "PUT" && r.ok()),
    roles.getByLabel("Template Admin").check(),
  ]);
  assert.ok(await roles.getByLabel("Template Admin").isChecked());
  const { users } = await spec.api("GET", `/users?q=${member.username}`);
  assert.deepEqual(users.find((u) => u.username === member.username).roles.map((r) => r.name), ["template-admin"]);
  await page.reload();
  assert.ok(await page.getByRole("group", { name: `Roles of ${member.username}` }).getByLabel("Template Admin").isChecked());
  // One's own roles and status are not changed here.
  const self = page.getByRole("group", { name: `Roles of ${owner.username}` });
  assert.ok(await self.getByLabel("Owner").isChecked());
  assert.ok(await self.getByLabel("Owner").isDisabled());
  await screenshot(page, "users");
  expectNoConsoleErrors();
  await context.close();
});

test("account: create an API token, see it once, use it, delete it; set quiet hours", async () => {
  const { page, context, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/settings/account");
  await page.getByRole("heading", { name: "Profile" }).waitFor();
  await page.getByText(owner.email).first().waitFor();

  await page.getByLabel("Token name").fill("ci-token");
  await page.getByLabel("Expires in").selectOption("7");
  await page.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByLabel("New API token");
  await shown.waitFor();
  const apiToken = (await shown.innerText()).trim();
  assert.ok(apiToken.length > 20);
  const me = await apiCall(spec.url, apiToken, "GET", "/users/me");
  assert.equal(me.username, owner.username);
  const tokenRow = page.locator('tr[data-token-name="ci-token"]');
  await tokenRow.waitFor();
  const [key] = (await spec.api("GET", "/users/me/keys/tokens")).filter((k) => k.token_name === "ci-token");
  assert.ok(Math.abs(new Date(key.expires_at) - Date.now() - 7 * 86400e3) < 3600e3, "expires in 7 days");
  await screenshot(page, "account");
  // Shown once: after a reload, only its name is there.
  await page.reload();
  await tokenRow.waitFor();
  assert.equal(await page.getByLabel("New API token").count(), 0);

  await tokenRow.getByRole("button", { name: "Delete token ci-token" }).click();
  await page.getByRole("dialog", { name: "Delete token ci-token?" }).getByRole("button", { name: "Delete" }).click();
  await tokenRow.waitFor({ state: "detached" });
  await assert.rejects(apiCall(spec.url, apiToken, "GET", "/users/me"), /401/);

  // Quiet hours: a start time in a time zone, read back from the API.
  await page.getByText("Quiet hours start at").waitFor();
  await page.getByLabel("Start time").fill("02:30");
  await page.getByLabel("Timezone").selectOption("Europe/Berlin");
  await page.getByRole("button", { name: "Update schedule" }).click();
  await page.getByText("Schedule updated.").waitFor();
  const quiet = await spec.api("GET", "/users/me/quiet-hours");
  assert.equal(quiet.raw_schedule, "CRON_TZ=Europe/Berlin 30 2 * * *");
  assert.equal(quiet.user_set, true);
  await page.reload();
  await page.locator(".quiet-summary").filter({ hasText: "02:30" }).filter({ hasText: "Europe/Berlin" }).waitFor();
  assert.equal(await page.getByLabel("Start time").inputValue(), "02:30");
  assert.equal(await page.getByLabel("Timezone").inputValue(), "Europe/Berlin");
  expectNoConsoleErrors();
  await context.close();
});

test("a member sees no Users link, /users says only owners, and cannot promote versions", async () => {
  const [org] = (await spec.api("GET", "/users/me")).organization_ids;
  await spec.api("POST", "/users", { ...viewer, login_type: "password", organization_ids: [org] });
  const { page, context, expectNoConsoleErrors } = await spec.signedIn({ as: viewer });
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Templates" }).waitFor();
  assert.equal(await nav.getByRole("link", { name: "Users" }).count(), 0);
  await page.goto("/users");
  await page.getByRole("alert").filter({ hasText: "Only owners can manage users." }).waitFor();
  await page.goto("/templates/local-minimal");
  await page.getByRole("heading", { name: "Version v1" }).waitFor();
  assert.equal(await page.getByRole("button", { name: /^Promote/ }).count(), 0);
  expectNoConsoleErrors();
  await context.close();
});

test("the pages at 375 px wide in the dark theme", async () => {
  const { page, context, expectNoConsoleErrors } = await spec.signedIn({
    viewport: { width: 375, height: 800 },
    colorScheme: "dark",
  });
  for (const [path, ready, name] of [
    ["/templates", page.getByRole("link", { name: "local-minimal", exact: true }), "templates-narrow-dark"],
    ["/templates/local-minimal", page.getByRole("heading", { name: "Version v1" }), "template-narrow-dark"],
    ["/users", page.getByRole("group", { name: `Roles of ${member.username}` }), "users-narrow-dark"],
    ["/settings/account", page.getByText("Quiet hours start at"), "account-narrow-dark"],
  ]) {
    await page.goto(path);
    await ready.waitFor();
    // Nothing wider than the screen: tables scroll inside their own box.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${path} is ${width} px wide`);
    await screenshot(page, name);
  }
  expectNoConsoleErrors();
  await context.close();
});
