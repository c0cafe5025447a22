// The workspace list and the create-workspace form in a real browser: the empty state, the
// template picker, a form generated from rich parameters (every control Coder has), checks next
// to the field and the API's validations on the field they name, rows that follow their
// workspace live (watch streams), Start and Stop from the row, the search box, and a member who
// sees only their own workspaces.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { apiCall, pushExample, screenshot, setup } from "./support.mjs";

// A build with a real agent takes a while on a busy machine.
const slow = { timeout: 120000 };

const spec = setup({
  cli: true,
  prepare: async ({ cli }) => {
    await pushExample(cli, "rich-parameters");
    await pushExample(cli, "local-minimal");
    await pushFormControls(cli);
  },
});

// The form types the examples do not use: textarea, slider, dropdown, switch, multi-select with
// options, a tag list, and a required parameter (no default). Only its form is looked at.
async function pushFormControls(cli) {
  const dir = mkdtempSync(join(tmpdir(), "form-controls-"));
  writeFileSync(
    join(dir, "main.tf"),
    `terraform {
  required_providers {
    coder = { source = "coder/coder" }
  }
}
data "coder_parameter" "notes" {
  name         = "notes"
  display_name = "Notes"
  type         = "string"
  form_type    = "textarea"
  default      = "first line"
  order        = 1
}
data "coder_parameter" "memory" {
  name         = "memory"
  display_name = "Memory (GB)"
  type         = "number"
  form_type    = "slider"
  default      = 4
  order        = 2
  validation {
    min = 2
    max = 16
  }
}
data "coder_parameter" "image" {
  name         = "image"
  display_name = "Image"
  type         = "string"
  form_type    = "dropdown"
  default      = "debian"
  order        = 3
  option {
    name  = "Debian"
    value = "debian"
  }
  option {
    name  = "Ubuntu"
    value = "ubuntu"
  }
}
data "coder_parameter" "verbose" {
  name         = "verbose"
  display_name = "Verbose"
  type         = "bool"
  form_type    = "switch"
  default      = true
  order        = 4
}
data "coder_parameter" "editors" {
  name         = "editors"
  display_name = "Editors"
  type         = "list(string)"
  form_type    = "multi-select"
  default      = jsonencode(["vim"])
  order        = 5
  option {
    name  = "Vim"
    value = "vim"
  }
  option {
    name  = "Emacs"
    value = "emacs"
  }
}
data "coder_parameter" "ports" {
  name         = "ports"
  display_name = "Ports"
  type         = "list(string)"
  default      = jsonencode(["8080"])
  order        = 6
}
data "coder_parameter" "project" {
  name         = "project"
  display_name = "Project"
  description  = "The project to check out"
  type         = "string"
  order        = 7
}
`,
  );
  await cli("templates", "push", "form-controls", "-d", dir, "-y");
}

const row = (page, name) => page.locator(`tr[data-workspace="${name}"]`);
const fieldOf = (page, id) => page.locator(".field", { has: page.locator(`[id="${id}"]`) });

test("no workspaces yet: the empty state, and Create workspace leads through the template picker to the form", async () => {
  const { page, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/workspaces");
  await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
  assert.equal(await page.getByLabel("Search workspaces").inputValue(), "owner:me");
  await page.getByRole("button", { name: "Create workspace" }).first().click();
  const picker = page.getByRole("dialog", { name: "Choose a template" });
  await picker.getByRole("link", { name: "local-minimal" }).waitFor();
  await screenshot(page, "workspaces-template-picker");
  await picker.getByRole("link", { name: "rich-parameters" }).click();
  await page.waitForURL("**/templates/rich-parameters/workspace");
  await page.getByRole("heading", { name: "New workspace" }).waitFor();

  // Every parameter of the example, with the control its type and form_type ask for.
  assert.equal(await page.getByLabel("Workspace name").inputValue(), "");
  const region = page.getByRole("group", { name: "Region" });
  await region.getByText("Where the workspace runs").waitFor();
  assert.ok(await region.getByRole("radio", { name: "Europe" }).isChecked());
  assert.ok(!(await region.getByRole("radio", { name: "United States" }).isChecked()));
  await region.getByText("Immutable").waitFor();
  const cpus = page.getByLabel("cpus");
  assert.equal(await cpus.getAttribute("type"), "number");
  assert.equal(await cpus.inputValue(), "2");
  assert.equal(await cpus.getAttribute("min"), "1");
  assert.equal(await cpus.getAttribute("max"), "8");
  assert.equal(await page.getByLabel("dotfiles_url").getAttribute("type"), "text");
  assert.equal(await page.getByLabel("gpu").getAttribute("type"), "checkbox");
  assert.ok(!(await page.getByLabel("gpu").isChecked()));
  const tools = page.getByLabel("tools");
  assert.equal(await tools.evaluate((e) => e.tagName), "TEXTAREA");
  assert.equal(await tools.inputValue(), "git\nmake");
  assert.equal(await page.getByLabel("session_note").inputValue(), "none");
  await fieldOf(page, "param-session_note").getByText("This build only").waitFor();

  // A preset fills in its values and holds them; None lets them go.
  const preset = page.getByLabel("Preset");
  assert.deepEqual(await preset.locator("option").allInnerTexts(), ["None", "Small"]);
  await cpus.fill("5");
  await preset.selectOption({ label: "Small" });
  assert.equal(await cpus.inputValue(), "2");
  assert.ok(await cpus.isDisabled());
  await fieldOf(page, "param-cpus").getByText("Set by preset Small").waitFor();
  await preset.selectOption({ label: "None" });
  assert.ok(await cpus.isEnabled());
  await screenshot(page, "create-workspace");
  expectNoConsoleErrors();
});

test("the form has a control for every form type, and a required parameter says so on its field", async () => {
  const { page, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/templates/form-controls/workspace");
  await page.getByRole("heading", { name: "New workspace" }).waitFor();
  const notes = page.getByLabel("Notes");
  await notes.waitFor();
  assert.equal(await notes.evaluate((e) => e.tagName), "TEXTAREA");
  assert.equal(await notes.inputValue(), "first line");
  const memory = page.getByLabel("Memory (GB)");
  assert.equal(await memory.getAttribute("type"), "range");
  assert.equal(await memory.getAttribute("min"), "2");
  assert.equal(await memory.getAttribute("max"), "16");
  assert.equal(await memory.inputValue(), "4");
  await memory.fill("10");
  assert.equal(await fieldOf(page, "param-memory").locator("output").innerText(), "10");
  const image = page.getByLabel("Image");
  assert.equal(await image.evaluate((e) => e.tagName), "SELECT");
  assert.deepEqual(await image.locator("option").allInnerTexts(), ["Debian", "Ubuntu"]);
  assert.ok(await page.getByRole("switch", { name: "Verbose" }).isChecked());
  const editors = page.getByRole("group", { name: "Editors" });
  assert.ok(await editors.getByRole("checkbox", { name: "Vim" }).isChecked());
  assert.ok(!(await editors.getByRole("checkbox", { name: "Emacs" }).isChecked()));
  assert.equal(await page.getByLabel("Ports").inputValue(), "8080");
  const project = fieldOf(page, "param-project");
  await project.locator(".required-mark").waitFor();

  await page.getByLabel("Workspace name").fill("controls");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await project.locator(".field-error", { hasText: "This parameter is required." }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/templates/form-controls/workspace");
  await screenshot(page, "create-workspace-form-types");
  expectNoConsoleErrors();
});

test("bad values are refused on their field, the API's validations land on the field they name, then the workspace is created", async () => {
  // A workspace that holds the name the form tries first.
  const templates = await spec.api("GET", "/templates");
  const rich = templates.find((t) => t.name === "rich-parameters");
  await spec.api("POST", "/users/me/workspaces", { name: "taken", template_id: rich.id });

  const { page, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/templates/rich-parameters/workspace");
  await page.getByLabel("Workspace name").fill("taken");
  await page.getByLabel("dotfiles_url").fill("http://example.com/dots");
  await page.getByLabel("cpus").fill("12");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await fieldOf(page, "param-dotfiles_url").locator(".field-error", { hasText: "Use an https:// URL" }).waitFor();
  await fieldOf(page, "param-cpus").locator(".field-error", { hasText: "Value must be between 1 and 8." }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/templates/rich-parameters/workspace");

  await page.getByLabel("dotfiles_url").fill("https://example.com/dots");
  await page.getByLabel("cpus").fill("4");
  await page.getByRole("radio", { name: "United States" }).check();
  await page.getByLabel("gpu").check();
  await page.getByLabel("tools").fill("git\nmake\ncurl\n");
  assert.equal(await fieldOf(page, "param-cpus").locator(".field-error").count(), 0);
  await page.getByRole("button", { name: "Create workspace" }).click();
  // The name is the API's to refuse: it is in use.
  await fieldOf(page, "workspace-name")
    .locator(".field-error", { hasText: "This value is already in use and should be unique." })
    .waitFor();
  await page.locator(".alert.error", { hasText: 'Workspace "taken" already exists.' }).waitFor();

  await page.getByLabel("Workspace name").fill("mine");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.waitForURL("**/@admin/mine");

  // What the form sent is what the build got.
  const workspace = await spec.api("GET", "/users/me/workspace/mine");
  const values = await spec.api("GET", `/workspacebuilds/${workspace.latest_build.id}/parameters`);
  const byName = Object.fromEntries(values.map((v) => [v.name, v.value]));
  assert.equal(byName.region, "us");
  assert.equal(byName.cpus, "4");
  assert.equal(byName.gpu, "true");
  assert.equal(byName.dotfiles_url, "https://example.com/dots");
  assert.deepEqual(JSON.parse(byName.tools), ["git", "make", "curl"]);
  expectNoConsoleErrors();
});

test("rows follow their workspace live; Stop and Start from the row; the search box filters", async () => {
  const { page, expectNoConsoleErrors } = await spec.signedIn();
  await page.goto("/workspaces");
  const mine = row(page, "mine");
  await mine.getByRole("link", { name: "mine" }).waitFor();
  assert.equal(await mine.getByRole("link", { name: "mine" }).getAttribute("href"), "/@admin/mine");
  await mine.getByText("rich-parameters").waitFor();
  // Marks the document: a reload would lose it, so every change below came over the streams.
  await page.evaluate(() => (window.berthNoReload = true));

  await mine.locator(".badge", { hasText: "Running" }).waitFor(slow);
  await row(page, "taken").locator(".badge", { hasText: "Running" }).waitFor(slow);
  await screenshot(page, "workspaces");

  await mine.getByRole("button", { name: "Stop mine" }).click();
  await mine.locator(".badge", { hasText: "Stopped" }).waitFor(slow);
  await mine.getByRole("button", { name: "Start mine" }).click();
  await mine.locator(".badge", { hasText: "Running" }).waitFor(slow);
  await row(page, "taken").getByRole("button", { name: "Stop taken" }).click();
  await row(page, "taken").locator(".badge", { hasText: "Stopped" }).waitFor(slow);
  assert.equal(await page.evaluate(() => window.berthNoReload), true);

  // A stop started elsewhere (the API) shows up on the row too.
  await spec.api("POST", `/workspaces/${(await spec.api("GET", "/users/me/workspace/mine")).id}/builds`, {
    transition: "stop",
  });
  await mine.locator(".badge", { hasText: "Stopped" }).waitFor(slow);
  await mine.getByRole("button", { name: "Start mine" }).click();
  await mine.locator(".badge", { hasText: "Running" }).waitFor(slow);

  const search = page.getByLabel("Search workspaces");
  await search.fill("status:stopped");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL((u) => u.searchParams.get("filter") === "status:stopped");
  await row(page, "mine").waitFor({ state: "detached" });
  await row(page, "taken").waitFor();
  assert.equal(await page.locator("tr[data-workspace]").count(), 1);

  // A search the API refuses says why.
  await search.fill("colour:blue");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(".alert.error", { hasText: "colour" }).waitFor();
  expectNoConsoleErrors();
});

test("favorite and outdated marks, in a narrow dark list", async () => {
  // A favorite, and a new template version that leaves both workspaces behind.
  const mine = await spec.api("GET", "/users/me/workspace/mine");
  await spec.api("PUT", `/workspaces/${mine.id}/favorite`);
  await pushExample(spec.cli, "rich-parameters");

  const { page, expectNoConsoleErrors } = await spec.signedIn({ viewport: { width: 375, height: 800 }, colorScheme: "dark" });
  await page.goto("/workspaces");
  await row(page, "mine").getByRole("img", { name: "Favorite" }).waitFor();
  assert.equal(await row(page, "taken").getByRole("img", { name: "Favorite" }).count(), 0);
  await row(page, "mine").getByText("Outdated").waitFor();
  await row(page, "taken").getByText("Outdated").waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375));
  await screenshot(page, "workspaces-narrow-dark");
  expectNoConsoleErrors();
});

test("a member sees only their own workspaces", async () => {
  const me = await spec.api("GET", "/users/me");
  const member = { email: "member@example.com", username: "member", password: "Member!Passw0rd-42" };
  await spec.api("POST", "/users", {
    ...member, login_type: "password", organization_ids: me.organization_ids,
  });
  const { session_token } = await apiCall(spec.url, "", "POST", "/users/login", {
    email: member.email, password: member.password,
  });
  const templates = await apiCall(spec.url, session_token, "GET", "/templates");
  const rich = templates.find((t) => t.name === "rich-parameters");
  await apiCall(spec.url, session_token, "POST", "/users/me/workspaces", { name: "member-ws", template_id: rich.id });

  const { page, expectNoConsoleErrors } = await spec.signedIn({ as: member });
  await page.goto("/workspaces");
  await row(page, "member-ws").waitFor();
  assert.equal(await page.locator("tr[data-workspace]").count(), 1);
  // Even with no filter at all, the API shows a member nobody else's workspaces.
  await page.getByLabel("Search workspaces").fill("");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL((u) => u.searchParams.get("filter") === "");
  await row(page, "member-ws").waitFor();
  await page.getByText("Showing 1–1 of 1 workspace").waitFor();
  assert.equal(await page.locator("tr[data-workspace]").count(), 1);
  expectNoConsoleErrors();

  // The owner, searching everything, sees the member's too, with its owner named.
  const owned = await spec.signedIn();
  await owned.page.goto("/workspaces?filter=");
  await row(owned.page, "member-ws").getByText("member", { exact: true }).waitFor();
  assert.equal(await owned.page.locator("tr[data-workspace]").count(), 3);
  owned.expectNoConsoleErrors();
});
