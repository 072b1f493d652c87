import { expect, test, type Browser, type BrowserContext, type Page } from "./fixtures";
import { closeAll, createRoom, initialsOf, openLive, postMessage, registerUser, send, signIn, uniqueName } from "./helpers";

// Running the instance from the admin page (issue 18). In the demo, Alice is
// the first account, so the admin. The sign-up policy stays as the demo has
// it (open): other specs register people.

async function signInAsAdmin(page: Page) {
  await signIn(page, "alice@example.com", "secret123");
  await expect(page.locator(".whoami")).toHaveText("Alice Liddell");
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toBeVisible();
}

/** Waits until the page has hydrated: the theme toggle claims a state only then. */
async function hydrated(page: Page) {
  await expect(page.locator(".theme-toggle[aria-pressed]")).toHaveCount(1, { timeout: 45_000 });
}

/** The admin page showing only the account `username`, hydrated. */
async function adminRowOf(page: Page, username: string) {
  await page.goto(`/admin?q=${encodeURIComponent(username)}`);
  const row = page.locator(`li.admin-user[data-username="${username}"]`);
  await expect(row).toBeVisible();
  await hydrated(page);
  return row;
}

test("an admin invites a new person, who registers through the link and chats; deactivated, their open tab drops to the login page", async ({
  browser,
}) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  await admin.getByRole("link", { name: "Admin", exact: true }).click();
  await expect(admin).toHaveURL(/\/admin$/);
  await hydrated(admin);
  try {
    await inviteRegisterAndDeactivate(browser, adminContext, admin);
  } finally {
    // The other specs register people: the demo's policy comes back.
    const reopened = await adminContext.request.put("/admin/sign_up_policy", { data: { policy: "open" } });
    expect(reopened.status()).toBe(200);
    await adminContext.close();
  }
});

async function inviteRegisterAndDeactivate(browser: Browser, adminContext: BrowserContext, admin: Page) {
  // Sign-up by invitation only, set on the page.
  await admin.getByLabel("Who may sign up").selectOption("invite");
  await admin.getByRole("button", { name: "Save policy" }).click();
  await expect(admin.getByText("Policy saved")).toBeVisible();
  await expect(admin.locator(".audit-entry .audit-action").first()).toHaveText("instance.sign_up_policy");
  // The sign-up page says so to a visitor without a link, before any form.
  const visitorContext = await browser.newContext();
  const visitor = await visitorContext.newPage();
  await visitor.goto("/register");
  await expect(visitor.locator(".sign-up-notice")).toHaveText(
    "Sign-up here is by invitation only: ask an admin of this Hearth for an invitation link.",
  );
  await expect(visitor.getByRole("button", { name: "Create account" })).toHaveCount(0);
  // The sign-in page offers no link to a form that would refuse them.
  await visitor.goto("/login");
  await expect(visitor.locator(".sign-up-offer")).toHaveText(
    "New here? Sign-up is by invitation: ask an admin of this Hearth for a link.",
  );
  await expect(visitor.getByRole("link", { name: "Create an account" })).toHaveCount(0);
  // Closed: it says that instead (the policy goes back to invite at once).
  expect((await adminContext.request.put("/admin/sign_up_policy", { data: { policy: "closed" } })).status()).toBe(200);
  await visitor.reload();
  await expect(visitor.getByRole("heading", { name: "Sign in to Hearth" })).toBeVisible();
  await expect(visitor.locator(".sign-up-offer")).toHaveCount(0);
  await visitor.goto("/register");
  await expect(visitor.locator(".sign-up-notice")).toHaveText("Sign-up is closed on this Hearth.");
  await expect(visitor.getByRole("button", { name: "Create account" })).toHaveCount(0);
  expect((await adminContext.request.put("/admin/sign_up_policy", { data: { policy: "invite" } })).status()).toBe(200);
  await visitorContext.close();

  // The invitation: one use, a day.
  await admin.getByLabel("Expires in hours").fill("24");
  await admin.getByLabel("Max uses").fill("1");
  const link = admin.locator("input.invitation-link");
  await admin.getByRole("button", { name: "Create invitation" }).click();
  await expect(link).toBeVisible();
  const url = await link.inputValue();
  expect(url).toMatch(/\/register\?invitation=[0-9a-f]{64}$/);
  // Shown once, so it has the panel's width (it was a field of 178 pixels),
  // and Copy puts it on the clipboard.
  expect((await link.boundingBox())!.width).toBeGreaterThan(400);
  await adminContext.grantPermissions(["clipboard-read", "clipboard-write"]);
  await admin.getByRole("button", { name: "Copy" }).click();
  await expect(admin.locator(".made-link .copied")).toHaveText("Copied.");
  expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(url);

  // The newcomer registers through it and chats.
  const newcomerContext = await browser.newContext();
  const newcomer = await newcomerContext.newPage();
  const username = uniqueName("invited");
  await newcomer.goto(url);
  await newcomer.getByLabel("Email").fill(`${username}@example.com`);
  await newcomer.getByLabel("Username").fill(username);
  await newcomer.getByLabel("Name (optional)").fill("Invited Person");
  await newcomer.getByLabel("Password").fill("invited password");
  await newcomer.getByRole("button", { name: "Create account" }).click();
  await expect(newcomer.locator(".whoami")).toHaveText("Invited Person");
  const room = await createRoom(newcomerContext.request, { kind: "open", title: `Welcome ${username}` });
  const joined = await adminContext.request.post(`/conversations/${room}/join`);
  expect(joined.status()).toBe(200);
  await openLive(newcomer, room);
  await openLive(admin, room);
  await send(newcomer, "Hello, I came by invitation");
  await expect(admin.locator("article.message .body", { hasText: "Hello, I came by invitation" })).toBeVisible();

  // The link is spent: a second person is told so.
  const lateContext = await browser.newContext();
  const late = await lateContext.newPage();
  // The page says so at once, instead of a form that can only be refused.
  await late.goto(url);
  await expect(late.locator(".sign-up-notice")).toHaveText(
    "This invitation link is invalid, expired or used up: ask an admin of this Hearth for a new one.",
  );
  await expect(late.getByRole("button", { name: "Create account" })).toHaveCount(0);

  // Deactivated from the admin page, the newcomer's open tab drops to /login.
  const row = await adminRowOf(admin, username);
  // It asks first; Cancel leaves them be.
  await row.getByRole("button", { name: "Deactivate", exact: true }).click();
  await expect(row.locator(".confirm-question")).toContainText(`Deactivate`);
  await expect(row.locator(".confirm-question")).toContainText(`@${username}`);
  await expect(row.getByRole("button", { name: "Yes, deactivate" })).toBeFocused();
  await row.getByRole("button", { name: "Cancel" }).click();
  await expect(row.locator(".confirm-question")).toHaveCount(0);
  await expect(row.getByRole("button", { name: "Deactivate", exact: true })).toBeFocused();
  await expect(row.locator(".deactivated-badge")).toHaveCount(0);
  await expect(row.getByRole("button", { name: "Reset link" })).toHaveCount(1);
  await expect(newcomer).not.toHaveURL(/\/login/);
  await row.getByRole("button", { name: "Deactivate", exact: true }).click();
  await row.getByRole("button", { name: "Yes, deactivate" }).click();
  await expect(row.locator(".deactivated-badge")).toBeVisible();
  // A reset link could never be used now: none is offered.
  await expect(row.getByRole("button", { name: "Reset link" })).toHaveCount(0);
  await expect(newcomer).toHaveURL(/\/login/, { timeout: 10_000 });
  await expect(admin.locator(".audit-entry .audit-action").first()).toHaveText("user.deactivate");
  // The newest row first: this run's (a server kept between runs lists earlier ones too).
  const usedUp = admin.locator("tr.invitation", { hasText: "1 of 1" }).first();
  await expect(usedUp).toContainText("Used up");
  await expect(usedUp.getByRole("button", { name: "Revoke" })).toHaveCount(0);
  await closeAll(newcomerContext, lateContext);
}

test("an admin deletes a message and it disappears live in another member's window", async ({ browser }) => {
  const posterContext = await browser.newContext();
  const watcherContext = await browser.newContext();
  const adminContext = await browser.newContext();
  await registerUser(posterContext, "poster");
  await registerUser(watcherContext, "watcher");
  const room = await createRoom(posterContext.request, { kind: "open", title: `Moderated ${Date.now()}` });
  const sent = await postMessage(posterContext.request, room, "spam, spam, spam");
  expect((await watcherContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  expect((await adminContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);

  const watcher = await watcherContext.newPage();
  await openLive(watcher, room);
  const watched = watcher.locator(`article.message[data-number="${sent.number}"]`);
  await expect(watched.locator(".body")).toHaveText("spam, spam, spam");
  await openLive(admin, room);
  const spam = admin.locator(`article.message[data-number="${sent.number}"]`);
  await spam.hover();
  await spam.getByRole("button", { name: "Delete message" }).click();
  await spam.getByRole("button", { name: "Delete", exact: true }).click();

  await expect(watched.locator(".body")).toHaveText("This message was deleted.");
  await expect(watcher.getByText("spam, spam, spam")).toHaveCount(0);
  await admin.goto("/admin");
  await expect(admin.locator(".audit-entry .audit-action").first()).toHaveText("message.delete");
  await closeAll(posterContext, watcherContext, adminContext);
});

test("an admin removes a member from a room on the admin page and it leaves their sidebar at once", async ({ browser }) => {
  const memberContext = await browser.newContext();
  const member = await registerUser(memberContext, "removed");
  const title = `Leaving soon ${Date.now()}`;
  const room = await createRoom(memberContext.request, { kind: "open", title });
  const memberPage = await memberContext.newPage();
  await openLive(memberPage, room);
  await expect(memberPage.locator(".room-link", { hasText: title })).toHaveCount(1);
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);

  const row = await adminRowOf(admin, member.username);
  await expect(row.locator(".avatar")).toHaveText(initialsOf(member.name));
  // A reset link says whose it is, and is brought into view (selected, to copy).
  await row.getByRole("button", { name: "Reset link" }).click();
  const link = admin.getByLabel(`Password reset link for ${member.name} (@${member.username}) (valid for an hour, once)`);
  await expect(link).toBeFocused();
  await expect(link).toBeInViewport();
  await row.getByRole("button", { name: "Rooms…" }).click();
  const panel = admin.getByRole("group", { name: `Remove @${member.username} from a room` });
  // Opened below the whole list: it takes the focus, so it is in view.
  await expect(panel.getByRole("heading")).toBeFocused();
  await expect(panel.getByRole("heading")).toBeInViewport();
  await panel.getByLabel("Room", { exact: true }).selectOption({ label: title });
  await panel.getByRole("button", { name: "Remove from room" }).click();

  await expect(panel.getByText("Not in any group or open room.")).toBeVisible();
  await expect(memberPage.locator(".room-link", { hasText: title })).toHaveCount(0);
  await expect(admin.locator(".audit-entry .audit-action").first()).toHaveText("room.remove_member");
  await closeAll(memberContext, adminContext);
});

test("an admin signs someone out everywhere: both of their open tabs drop to the login page, and they may sign in again", async ({
  browser,
}) => {
  const memberContext = await browser.newContext();
  const member = await registerUser(memberContext, "lostphone");
  const room = await createRoom(memberContext.request, { kind: "open", title: `Lost phone ${Date.now()}` });
  const laptop = await memberContext.newPage();
  await openLive(laptop, room);
  const phoneContext = await browser.newContext();
  const phone = await phoneContext.newPage();
  await signIn(phone, member.username, "secret123");
  await expect(phone.locator(".whoami")).toHaveText(member.name);
  await openLive(phone, room);
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);

  const row = await adminRowOf(admin, member.username);
  await expect(row.locator(".sessions-count")).toHaveText("Signed in on 2 devices");
  await row.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(admin.getByRole("status").filter({ hasText: "signed out everywhere" })).toHaveText(
    `@${member.username} is signed out everywhere.`,
  );
  await expect(row.locator(".sessions-count")).toHaveText("Not signed in");
  await expect(row.getByRole("button", { name: "Sign out everywhere" })).toHaveCount(0);
  await expect(laptop).toHaveURL(/\/login/, { timeout: 10_000 });
  await expect(phone).toHaveURL(/\/login/, { timeout: 10_000 });
  const entry = admin.locator(".audit-entry").first();
  await expect(entry.locator(".audit-action")).toHaveText("user.sign_out");
  await expect(entry).toContainText("2 sessions");
  // Not deactivated: they sign in again.
  await signIn(phone, member.username, "secret123");
  await expect(phone.locator(".whoami")).toHaveText(member.name);
  await closeAll(memberContext, phoneContext, adminContext);
});

test("a member gets the admins-only page and no Admin link; anonymous visitors go to sign in", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "plain");
  const page = await context.newPage();
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Admins only" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Admin", exact: true })).toHaveCount(0);
  await context.close();

  const anonymous = await browser.newPage();
  await anonymous.goto("/admin");
  await expect(anonymous).toHaveURL(/\/login\?next=/);
  await anonymous.close();
});

test("a long room name in Remove from a room does not widen the admin page on a phone or a tablet", async ({ browser }) => {
  const memberContext = await browser.newContext();
  const member = await registerUser(memberContext, "longroom");
  const title = `A very long open room name ${Date.now()} `.padEnd(100, "x");
  await createRoom(memberContext.request, { kind: "open", title });
  const adminContext = await browser.newContext({ viewport: { width: 375, height: 667 } });
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const row = await adminRowOf(admin, member.username);
  await row.getByRole("button", { name: "Rooms…" }).click();
  const select = admin.getByRole("group", { name: `Remove @${member.username} from a room` }).getByLabel("Room", { exact: true });
  await expect(select.locator("option")).toHaveText([title]);

  for (const width of [375, 768]) {
    await admin.setViewportSize({ width, height: 900 });
    const widths = await admin.evaluate(() => ({ page: document.documentElement.scrollWidth, window: window.innerWidth }));
    expect(widths.page, `the page is no wider than ${width} px`).toBeLessThanOrEqual(widths.window);
  }
  await closeAll(memberContext, adminContext);
});

test("the audit log shows the newest hundred entries and older ones on request", async ({ browser }) => {
  // Over a hundred entries: a member made admin and member again, by the API.
  const memberContext = await browser.newContext();
  const member = await registerUser(memberContext, "audited");
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  for (let i = 0; i < 110; i++) {
    const role = i % 2 === 0 ? "admin" : "member";
    const response = await adminContext.request.put(`/admin/users/${member.id}/role`, { data: { role } });
    expect(response.status()).toBe(200);
  }

  await admin.goto("/admin");
  await hydrated(admin);
  const rows = admin.locator(".audit-log tr.audit-entry");
  await expect(rows).toHaveCount(100);
  const older = admin.getByRole("button", { name: "Show older entries" });
  await older.click();

  // The next page comes after them, none of them again.
  await expect.poll(() => rows.count()).toBeGreaterThan(110);
  const texts = await rows.allInnerTexts();
  const roleChanges = texts.filter((t) => t.includes("user.set_role") && t.includes(`@${member.username}`));
  expect(roleChanges.length).toBeGreaterThanOrEqual(110);
  await closeAll(adminContext, memberContext);
});

test("a deactivated member is marked in the room, a direct room with them says so, and the @ list leaves them out", async ({ browser }) => {
  const memberContext = await browser.newContext();
  const member = await registerUser(memberContext, "leaver");
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const room = await createRoom(admin.request, { participant_ids: [member.id] });
  const response = await admin.request.post(`/admin/users/${member.id}/deactivate`);
  expect(response.status()).toBe(200);

  await openLive(admin, room);
  await expect(admin.locator(`.members .member[data-user-id="${member.id}"]`)).toContainText("(deactivated)");
  await expect(admin.getByRole("note")).toHaveText(`${member.name}'s account is deactivated: they will not see what you send here.`);
  const composer = admin.getByLabel("Message", { exact: true });
  await composer.pressSequentially(`@${member.username.slice(0, 5)}`);
  await expect(admin.getByRole("listbox", { name: "People to mention" })).toBeHidden();
  await closeAll(memberContext, adminContext);
});
