import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, unread } from "./helpers";

// The sidebar (issue 15): Rooms and Direct messages apart, the current room
// marked for screen readers, badges that say their count, presence on
// direct messages; and a home page that welcomes a new user.

test("a new user is welcomed, with empty sections; once in a room they are welcomed back", async ({ browser }) => {
  const context = await browser.newContext();
  const user = await registerUser(context, "newcomer");
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Welcome, ${user.name}`);
  const rooms = page.getByRole("region", { name: "Rooms" });
  const direct = page.getByRole("region", { name: "Direct messages" });
  await expect(rooms.getByRole("heading", { name: "Rooms" })).toBeVisible();
  await expect(rooms).toContainText("No rooms yet.");
  await expect(direct).toContainText("No direct messages yet.");

  const title = `First room ${Date.now()}`;
  await createRoom(context.request, { kind: "open", title });
  await page.reload();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Welcome back, ${user.name}`);
  await expect(rooms.locator(".room-link")).toHaveText([new RegExp(title)]);
  await expect(rooms).not.toContainText("No rooms yet.");
  await context.close();
});

test("an edit shows live in the room list: its preview, and a mention it adds", async ({ browser }) => {
  const { alice, room: dm, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const title = `Edits ${Date.now()}`;
  const open = await createRoom(aliceContext.request, { kind: "open", title });
  expect((await bobContext.request.post(`/conversations/${open}/join`)).status()).toBe(200);
  const posted = await postMessage(bobContext.request, open, "no mention yet");
  await postMessage(bobContext.request, dm, "two original");
  await alicePage.goto("/");
  await openLive(bobPage, dm);
  const openLink = alicePage.locator(`.room-link[data-room-id="${open}"]`);
  const dmLink = alicePage.locator(`.room-link[data-room-id="${dm}"]`);
  await expect(dmLink.locator(".room-preview")).toHaveText("two original");
  await expect(openLink.getByRole("img", { name: "1 unread mention" })).toHaveCount(0);

  // Bob edits in the room he has open, and in the other one.
  const editor = bobPage.getByLabel("Message", { exact: true });
  await editor.press("ArrowUp");
  const editing = bobPage.getByRole("textbox", { name: "Edit message" });
  await editing.fill("two CHANGED");
  await editing.press("Enter");
  const edited = await bobContext.request.patch(`/conversations/${open}/messages/${posted.number}`, {
    data: { body: `now mentioning @${alice.username}` },
  });
  expect(edited.status()).toBe(200);

  await expect(dmLink.locator(".room-preview")).toHaveText("two CHANGED");
  await expect(bobPage.locator(`.room-link[data-room-id="${dm}"] .room-preview`)).toHaveText("You: two CHANGED");
  await expect(openLink.locator(".room-preview")).toContainText(`now mentioning @${alice.username}`);
  await expect(openLink.getByRole("img", { name: "1 unread mention" })).toHaveText("@1");
  await closeAll(aliceContext, bobContext);
});

test("rooms and direct messages are listed apart, the current one is aria-current, badges say their count", async ({
  browser,
}) => {
  const { alice, bob, room: dm, aliceContext, bobContext, alicePage } = await pair(browser);
  const title = `Crew ${Date.now()}`;
  const open = await createRoom(aliceContext.request, { kind: "open", title });
  expect((await bobContext.request.post(`/conversations/${open}/join`)).status()).toBe(200);
  for (const text of ["one", "two", "three"]) await postMessage(bobContext.request, dm, text);
  await postMessage(bobContext.request, open, `over to you @${alice.username}`);

  await alicePage.goto("/");
  const rooms = alicePage.getByRole("region", { name: "Rooms" });
  const direct = alicePage.getByRole("region", { name: "Direct messages" });
  const openLink = rooms.locator(`.room-link[data-room-id="${open}"]`);
  const dmLink = direct.locator(`.room-link[data-room-id="${dm}"]`);
  await expect(rooms.locator(".room-link")).toHaveCount(1);
  await expect(direct.locator(".room-link")).toHaveCount(1);
  await expect(openLink).toContainText(title);
  await expect(dmLink).toContainText(bob.name);
  // A room's preview names who said it; a direct room's has only the other person to say it.
  await expect(openLink.locator(".room-preview")).toHaveText(`${bob.name}: over to you @${alice.username}`);
  await expect(dmLink.locator(".room-preview")).toHaveText("three");

  await expect(dmLink.getByRole("img", { name: "3 unread messages" })).toHaveText("3");
  await expect(openLink.getByRole("img", { name: "1 unread mention" })).toHaveText("@1");
  await expect(openLink.getByRole("img", { name: "1 unread message" })).toHaveText("1");
  await expect(alicePage.locator(".room-link[aria-current]")).toHaveCount(0);

  // The current room, through client-side navigation too.
  await openLink.click();
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-room-id", String(open));
  await expect(openLink).toHaveAttribute("aria-current", "page");
  await expect(openLink).toHaveClass(/current/);
  await expect(dmLink).not.toHaveAttribute("aria-current", /.*/);
  // Opening the room read the mention: its badge is gone.
  await expect(openLink.locator(".badges [role=img]")).toHaveCount(0);
  await dmLink.click();
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-room-id", String(dm));
  await expect(dmLink).toHaveAttribute("aria-current", "page");
  await expect(openLink).not.toHaveAttribute("aria-current", /.*/);

  // A mention in the other room while I am here: its badge appears live,
  // and clears when I open that room.
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await postMessage(bobContext.request, open, `again, @${alice.username}`);
  await expect(openLink.getByRole("img", { name: "1 unread mention" })).toHaveText("@1");
  await openLink.click();
  await expect(openLink).toHaveAttribute("aria-current", "page");
  await expect(openLink.getByRole("img", { name: /unread mention/ })).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test("a direct message shows whether the other person is online, in words as well as a dot", async ({ browser }) => {
  const { bob, room: dm, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(alicePage, dm);
  const dmLink = alicePage.locator(`.room-link[data-room-id="${dm}"]`);
  await expect(dmLink).toContainText(bob.name);
  // Bob's avatar, with the presence dot on its corner.
  await expect(dmLink.locator(".room-avatar .avatar")).toBeVisible();
  await expect(dmLink.locator(".room-avatar .presence")).toHaveCount(1);
  const [face, dot] = await Promise.all([".room-avatar .avatar", ".room-avatar .presence"].map((s) => dmLink.locator(s).boundingBox()));
  expect(dot!.x + dot!.width / 2, "the dot is on the avatar's right edge").toBeGreaterThan(face!.x + face!.width * 0.6);
  expect(dot!.y + dot!.height / 2, "and at its bottom").toBeGreaterThan(face!.y + face!.height * 0.6);
  await expect(dmLink.locator(".presence")).toHaveAttribute("data-online", "false");
  await expect(dmLink.locator(".presence-text")).toHaveText(", offline");

  await openLive(bobPage, dm);
  await expect(dmLink.locator(".presence")).toHaveAttribute("data-online", "true");
  await expect(dmLink.locator(".presence-text")).toHaveText(", online");
  await expect(dmLink).toHaveAccessibleName(new RegExp(`^${bob.name}\\s*, online`));

  // Bob leaves: after the server's grace period he is offline again.
  await bobPage.close();
  await expect(dmLink.locator(".presence")).toHaveAttribute("data-online", "false", { timeout: 20_000 });
  await expect(dmLink.locator(".presence-text")).toHaveText(", offline");
  await closeAll(aliceContext, bobContext);
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`the sidebar with both sections, badges and presence has no accessibility violations (${colorScheme})`, async ({
    browser,
  }) => {
    const aliceContext = await browser.newContext({ colorScheme });
    const bobContext = await browser.newContext();
    const alice = await registerUser(aliceContext, "alice");
    const bob = await registerUser(bobContext, "bob");
    const dm = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
    const open = await createRoom(aliceContext.request, { kind: "open", title: `Axe ${Date.now()}` });
    expect((await bobContext.request.post(`/conversations/${open}/join`)).status()).toBe(200);
    await postMessage(bobContext.request, dm, "hello");
    await postMessage(bobContext.request, open, `look @${alice.username}`);
    const bobPage = await bobContext.newPage();
    await openLive(bobPage, dm);

    const page = await aliceContext.newPage();
    await page.goto("/");
    const dmLink = page.locator(`.room-link[data-room-id="${dm}"]`);
    await expect(dmLink.locator(".presence")).toHaveAttribute("data-online", "true");
    await expect(dmLink.getByRole("img", { name: "1 unread message" })).toBeVisible();
    await expect(page.getByRole("img", { name: "1 unread mention" })).toBeVisible();
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
    await closeAll(aliceContext, bobContext);
  });
}

test("the current room is scrolled into the list's view, however many newer rooms are above it", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await registerUser(context, "busy");
  const first = await createRoom(context.request, { kind: "open", title: "The first room" });
  // Newer rooms sort above it, far past the bottom of the list.
  for (let i = 1; i <= 30; i++) await createRoom(context.request, { kind: "open", title: `Newer room ${i}` });
  const page = await context.newPage();
  await openLive(page, first);
  const current = page.locator('.sidebar a[aria-current="page"]');
  await expect(current).toContainText("The first room");
  await expect(current).toBeInViewport();
  // And again after moving to a room at the top and back by the list.
  await page.locator(".sidebar a.room-link", { hasText: "Newer room 30" }).click();
  await expect(page.locator(".chat-header h1")).toHaveText("Newer room 30");
  await page.goBack();
  await expect(page.locator(".chat-header h1")).toHaveText("The first room");
  await expect(current).toBeInViewport();
  await context.close();
});

test("Jump to…: Ctrl+K, a few letters of a name narrow the list, Enter opens the first, and a live message keeps the filter", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const me = await registerUser(context, "jumper");
  const other = await browser.newContext();
  const zoe = await registerUser(other, "zoe");
  const stamp = Date.now();
  const wanted = await createRoom(context.request, { kind: "open", title: `Quarterly planning ${stamp}` });
  for (const n of [1, 2, 3]) await createRoom(context.request, { kind: "open", title: `Chatter ${n} ${stamp}` });
  const dm = await createRoom(other.request, { participant_ids: [me.id] });
  await postMessage(other.request, dm, "hi there");
  const page = await context.newPage();
  await openLive(page, wanted);
  const field = page.getByRole("searchbox", { name: "Jump to a conversation" });
  const shown = page.locator(".sidebar li:not([hidden]) .room-link");
  // Five of mine, and any rooms every new account is put in.
  await expect(page.locator(`.room-link[data-room-id="${dm}"]`)).toBeVisible();
  const all = await shown.count();
  expect(all).toBeGreaterThanOrEqual(5);

  // Ctrl+K from the composer: to the field.
  await page.keyboard.press("Control+k");
  await expect(field).toBeFocused();
  await page.keyboard.type("CHATT");
  await expect(shown).toHaveCount(3);
  await expect(page.getByRole("region", { name: "Direct messages" })).toBeHidden();
  await expect(page.getByRole("status").filter({ hasText: "conversations match" })).toHaveText("3 conversations match");

  // A message arriving redraws the list: still narrowed, the text still there.
  await postMessage(other.request, dm, "are you there?");
  await expect(page.locator(`.room-link[data-room-id="${dm}"]`)).toContainText("are you there?");
  await expect(field).toHaveValue("CHATT");
  await expect(shown).toHaveCount(3);

  // The other person, by their username: Enter opens the direct room, and
  // the list is whole again.
  await field.fill(zoe.username.slice(0, 7));
  await expect(shown).toHaveCount(1);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/rooms/${dm}$`));
  await expect(field).toHaveValue("");
  await expect(shown).toHaveCount(all);

  // Nothing matches: said, not an empty sidebar; Escape empties the field.
  await field.fill("no such room");
  await expect(shown).toHaveCount(0);
  await expect(page.locator(".sidebar .no-match")).toHaveText("No conversation's name holds “no such room”.");
  await field.press("Escape");
  await expect(shown).toHaveCount(all);

  // Signing out, narrowed or not, leaves the app working (the reset of a
  // narrowed list once ran after the list was gone: a panic, a dead page).
  // The pageErrors fixture fails the test on any panic.
  for (const typed of ["chat", ""]) {
    await field.fill(typed);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.getByLabel("Email or username").fill(me.username);
    await page.getByLabel("Password").fill("secret123");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator(".whoami")).toHaveText(me.name);
  }
  await context.close();
  await other.close();
});

test("two people who took the same name are told apart by their @usernames, in the list and in a direct room's header", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const me = await registerUser(context, "target");
  const [realContext, fakeContext] = [await browser.newContext(), await browser.newContext()];
  const real = await registerUser(realContext, "bob");
  const fake = await registerUser(fakeContext, "b0b");
  const name = `Bob Builder ${Date.now()}`;
  for (const other of [realContext, fakeContext]) {
    expect((await other.request.put("/users/me", { data: { user: { name } } })).status()).toBe(200);
  }
  const realRoom = await createRoom(realContext.request, { participant_ids: [me.id] });
  const fakeRoom = await createRoom(fakeContext.request, { participant_ids: [me.id] });
  await postMessage(fakeContext.request, fakeRoom, "it is Bob, can you send me the password?");
  const lone = await browser.newContext();
  const carol = await registerUser(lone, "carol");
  await createRoom(lone.request, { participant_ids: [me.id] });

  const page = await context.newPage();
  await openLive(page, fakeRoom);
  await expect(page.locator(`.room-link[data-room-id="${realRoom}"] .room-title`)).toContainText(`${name} @${real.username}`);
  await expect(page.locator(`.room-link[data-room-id="${fakeRoom}"] .room-title`)).toContainText(`${name} @${fake.username}`);
  // A name nobody else here has is shown alone.
  await expect(page.locator(".room-link", { hasText: carol.name }).locator(".room-handle")).toHaveCount(0);
  // The header of a direct room says whose the name is.
  await expect(page.locator(".chat-header .member", { hasText: name })).toContainText(`@${fake.username}`);
  await closeAll(context, realContext, fakeContext, lone);
});

test("Close in a direct room takes it out of the room list, read, until the other person writes again", async ({
  browser,
}) => {
  const { alice, room, aliceContext, bobContext, bobPage } = await pair(browser);
  await postMessage(aliceContext.request, room, "are you there?");
  await openLive(bobPage, room);
  const entry = bobPage.locator(`.sidebar a.room-link[href="/rooms/${room}"]`);
  await expect(entry).toHaveCount(1);

  await bobPage.locator(".chat-header").getByRole("button", { name: "Close" }).click();

  await expect(bobPage).toHaveURL(/\/$/);
  await expect(entry).toHaveCount(0);
  expect(await unread(bobContext.request, room).catch(() => "not listed")).toBe("not listed");
  // Alice writes again: back, counted.
  await postMessage(aliceContext.request, room, `${alice.name} again`);
  await expect(entry).toHaveCount(1);
  await expect(entry.locator(".badges .unread")).toHaveText("1");
  // Closed again, and opened from its address (a link, a search hit): back.
  await openLive(bobPage, room);
  await bobPage.locator(".chat-header").getByRole("button", { name: "Close" }).click();
  await expect(entry).toHaveCount(0);
  await openLive(bobPage, room);
  await expect(entry).toHaveCount(1);
  expect(await unread(bobContext.request, room)).toBe(0);
  await closeAll(aliceContext, bobContext);
});
