import { expect, test } from "@playwright/test";
import { signIn, uniqueName } from "./helpers";

test("register, sign out, sign in, edit the profile and keep it after a reload", async ({ page }) => {
  const username = uniqueName("pw");
  const password = "correct horse battery";

  await page.goto("/register");
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Name (optional)").fill("Playwright Person");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator(".me-name")).toHaveText("Playwright Person");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=/);

  await signIn(page, username, password);
  await expect(page.locator(".me-name")).toHaveText("Playwright Person");
  await expect(page.locator(".whoami")).toHaveText("Playwright Person");

  await page.locator(".whoami").click();
  await expect(page).toHaveURL(/\/profile$/);
  await page.getByLabel("Name", { exact: true }).fill("Renamed Person");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator(".saved")).toHaveText("Profile saved");

  await page.reload();
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Renamed Person");
  await expect(page.locator(".whoami")).toHaveText("Renamed Person");
});

test("a wrong password shows an error and keeps you signed out", async ({ page }) => {
  await signIn(page, "alice@example.com", "definitely-wrong");

  await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("anonymous visitors return to where they were going after signing in", async ({ page }) => {
  await page.goto("/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile|\/login\?next=\/profile/);

  await page.getByLabel("Email or username").fill("carol@example.com");
  await page.getByLabel("Password").fill("secret123");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByLabel("Username")).toHaveValue("carol");
});

test("registration errors show beside their fields", async ({ page }) => {
  await page.goto("/register");
  await page.getByLabel("Email").fill("alice@example.com");
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill("long enough password");
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page.locator('[data-field="email"]')).toHaveText("Email has already been taken");
  await expect(page.locator('[data-field="username"]')).toHaveText("Username has already been taken");
});
