// First start, sign-in and sign-out in a real browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import { owner, screenshot, setup, signInThroughForm } from "./support.mjs";

const spec = setup();

test("a new server leads to the setup form, which creates the owner and signs in", async () => {
  const { page, expectNoConsoleErrors } = await spec.open();
  await page.goto("/");
  await page.waitForURL("**/setup");
  await page.getByRole("heading", { name: "Create the first user" }).waitFor();
  // The password rules are next to the field, and the API's verdict lands on it.
  await page.getByText("mix lowercase and uppercase letters").waitFor();
  await page.getByLabel("Username").fill(owner.username);
  await page.getByLabel("Email").fill(owner.email);
  await page.getByLabel("Password").fill("weak");
  await screenshot(page, "setup");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.locator(".field-error, .alert.error").first().waitFor();
  assert.match(await page.locator(".alert.error").innerText(), /password/i);
  await page.getByLabel("Password").fill(owner.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/workspaces");
  await page.getByRole("button", { name: owner.username }).waitFor();
  expectNoConsoleErrors();
});

test("sign out from the user menu, then sign in again with email and password", async () => {
  const { page, context, expectNoConsoleErrors } = await spec.open();
  await signInThroughForm(page, owner.email, owner.password);
  assert.ok((await context.cookies()).some((c) => c.name === "coder_session_token" && c.httpOnly));
  await page.getByRole("button", { name: owner.username }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await page.waitForURL("**/login");
  // The session is gone on the server too: a page that needs it leads back to the login.
  await page.goto("/templates");
  await page.waitForURL("**/login?redirect=%2Ftemplates");
  await page.getByLabel("Email").fill(owner.email);
  await page.getByLabel("Password").fill("Wrong!Passw0rd-123");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
  await screenshot(page, "login");
  await page.getByLabel("Password").fill(owner.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/templates");
  expectNoConsoleErrors();
});
