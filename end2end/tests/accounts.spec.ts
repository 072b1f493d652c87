import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, registerUser, signIn, uniqueName, whenHydrated } from "./helpers";

test("register, sign out, sign in, edit the profile and keep it after a reload", async ({ page }) => {
  const username = uniqueName("pw");
  // Beyond ASCII, as many people's are: the form takes "ö" in an address.
  const password = "correct h\u00f6rse battery";

  await page.goto("/register");
  await page.getByLabel("Email").fill(`s\u00f6ren.${username}@example.com`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Name (optional)").fill("Playwright Person");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator(".me-name")).toHaveText("Playwright Person");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=/);

  // The address in capitals, and the "ö" typed as "o" and a mark (another keyboard): the same account.
  await signIn(page, `S\u00d6REN.${username}@EXAMPLE.COM`, "correct ho\u0308rse battery");
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
  // The sign-in page puts the cursor where typing starts.
  await expect(page.getByLabel("Email or username")).toBeFocused();
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

test("a failed sign-in's error is gone after registering and signing out", async ({ page }) => {
  await page.goto("/login");
  await whenHydrated(
    () => page.getByRole("button", { name: "Carol Danvers" }).click(),
    () => expect(page.getByLabel("Email or username")).toHaveValue("carol@example.com", { timeout: 1000 }),
  );
  await page.getByLabel("Password").fill("definitely-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
  await expect(page).toHaveURL(/\/login$/);
  // Both fields say they were refused, and why, to a screen reader.
  for (const field of [page.getByLabel("Email or username"), page.getByLabel("Password", { exact: true })]) {
    await expect(field).toHaveAttribute("aria-invalid", "true");
    await expect(field).toHaveAccessibleDescription("Invalid email or password");
  }

  const username = uniqueName("fresh");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator(".me-name")).toHaveText(username);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expect(page.locator(".form-error")).toHaveCount(0);
  await expect(page.getByText("Invalid email or password")).toHaveCount(0);
});

test("a sign-in error posted before the page hydrated is still shown after it hydrates", async ({ page }) => {
  // Hold the WASM back so the form posts without JavaScript.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await signIn(page, "alice@example.com", "definitely-wrong");
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
  release();

  await whenHydrated(
    () => page.getByRole("button", { name: "Alice Liddell" }).click(),
    () => expect(page.getByLabel("Email or username")).toHaveValue("alice@example.com", { timeout: 1000 }),
  );
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
});

test("someone signed in who opens the sign-in or sign-up page is sent on, and never off the site", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "onward");
  const page = await context.newPage();
  await page.goto("/login");
  await expect.poll(() => new URL(page.url()).pathname).toBe("/");
  const origin = new URL(page.url()).origin;
  await expect(page.locator(".welcome")).toBeVisible();
  await page.goto("/register?next=/browse");
  await expect.poll(() => new URL(page.url()).pathname).toBe("/browse");
  await page.goto("/login?next=https://evil.example/");
  await expect.poll(() => new URL(page.url()).origin).toBe(origin);
  expect(new URL(page.url()).pathname).toBe("/");
  await context.close();
});

test("the password is changed on the profile page: the current one first, and the other sessions end", async ({ browser }) => {
  const here = await browser.newContext();
  const elsewhere = await browser.newContext();
  const me = await registerUser(here, "rekey");
  const signedIn = await elsewhere.request.post("/users/sign_in", { data: { user: { email: me.username, password: "secret123" } } });
  expect(signedIn.ok()).toBe(true);
  expect((await elsewhere.request.get("/users/me")).status()).toBe(200);
  const page = await here.newPage();
  await page.goto("/profile");
  const form = page.locator("#password");

  await form.getByLabel("Current password").fill("not my password");
  await form.getByLabel("New password").fill("a brand new secret");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.locator('[data-field="current_password"]')).not.toBeEmpty();
  await expect(form.getByLabel("Current password")).toHaveAttribute("aria-invalid", "true");

  // A new password the server refuses is described by this form's own
  // error list, not the email form's (which has a password field too).
  const newField = form.getByLabel("New password");
  await newField.evaluate((input) => input.removeAttribute("minlength"));
  await form.getByLabel("Current password").fill("secret123");
  await newField.fill("short");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(newField).toHaveAttribute("aria-invalid", "true");
  const describedBy = await newField.getAttribute("aria-describedby");
  await expect(page.locator(`[id="${describedBy}"]`)).toHaveCount(1);
  await expect(page.locator(`[id="${describedBy}"]`)).toContainText("Password");
  await expect(form.locator(`[id="${describedBy}"]`)).toHaveCount(1);

  await form.getByLabel("Current password").fill("secret123");
  await form.getByLabel("New password").fill("a brand new secret");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.locator(".saved")).toContainText("Password changed");
  await expect(form.getByLabel("Current password")).toHaveValue("");
  await expect(form.getByLabel("New password")).toHaveValue("");
  // This tab stays signed in; the other session is over; the new one works.
  expect((await here.request.get("/users/me")).status()).toBe(200);
  expect((await elsewhere.request.get("/users/me")).status()).toBe(401);
  const again = await browser.newContext();
  const fresh = await again.request.post("/users/sign_in", { data: { user: { email: me.username, password: "a brand new secret" } } });
  expect(fresh.ok()).toBe(true);
  await closeAll(here, elsewhere, again);
});

test("an unsent draft stays with the person who typed it, not with the browser", async ({ browser }) => {
  const context = await browser.newContext();
  const other = await browser.newContext();
  await registerUser(context, "typist");
  const next = await registerUser(other, "next");
  const room = await createRoom(context.request, { kind: "open", title: `Shared desk ${Date.now()}` });
  expect((await other.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const page = await context.newPage();
  await openLive(page, room);
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("my private words, not sent");
  // Kept across a reload, for its author.
  await expect(async () => {
    await page.reload();
    await expect(page.getByLabel("Message", { exact: true })).toHaveValue("my private words, not sent", { timeout: 2_000 });
  }).toPass({ timeout: 20_000 });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("hearth.draft.")))).toEqual([]);
  // The next person on this browser opens the same room: an empty composer.
  await signIn(page, `${next.username}@example.com`, "secret123");
  await expect(page).not.toHaveURL(/\/login/);
  await openLive(page, room);
  await expect(page.getByLabel("Message", { exact: true })).toHaveValue("");
  await closeAll(context, other);
});

test("a password refused as too short is said once: the server's error, not the typing hint beside it", async ({ page }) => {
  await page.goto("/register");
  const username = uniqueName("short");
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Username").fill(username);
  const password = page.getByLabel("Password");
  await whenHydrated(
    async () => {
      await password.fill("");
      await password.pressSequentially("abcde");
    },
    () => expect(page.locator(".password-hint")).toHaveText("Passwords have at least 8 characters (5 so far)", { timeout: 1000 }),
  );
  // Past the browser's own check (minlength), as a script or an old browser would be.
  await page.locator("form").evaluate((form) => form.setAttribute("novalidate", ""));
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page.locator('[data-field="password"]')).toHaveText("Password is too short (minimum is 8 characters)");
  await expect(page.locator(".password-hint")).toHaveCount(0);
});
