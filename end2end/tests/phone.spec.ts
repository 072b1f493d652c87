import path from "node:path";
import { Browser, expect, Page, test } from "./fixtures";
import { closeAll, createRoom, openLive, postMessage, registerUser, send, signIn } from "./helpers";

// Issue 15, "What to build" 7: a phone layout. Below 700 px the room list
// and a room are separate screens with a back control; the room takes the
// whole height with the composer at the bottom; one scrolling area, nothing
// sideways. Also: screenshots of the room at both viewports and in both
// themes, kept as artifacts in end2end/.results/screenshots (not committed).

const PHONE = { width: 375, height: 667 };
const DESKTOP = { width: 1440, height: 900 };

async function nothingScrollsSideways(page: Page) {
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
  }));
  expect(widths.page, "the page is no wider than the screen").toBeLessThanOrEqual(widths.window);
}

async function twoPeople(browser: Browser, viewport: { width: number; height: number }, colorScheme: "light" | "dark") {
  const aliceContext = await browser.newContext({ viewport, colorScheme });
  const bobContext = await browser.newContext({ viewport, colorScheme });
  const alice = await registerUser(aliceContext, "alice");
  const bob = await registerUser(bobContext, "bob");
  const room = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
  return { alice, bob, room, aliceContext, bobContext };
}

test("on a phone the room list and a room are separate screens, and the whole chat flow works", async ({ browser }) => {
  const { alice, room, aliceContext, bobContext } = await twoPeople(browser, PHONE, "light");
  // More than a screenful, so the history has to scroll inside the room.
  for (let i = 1; i <= 25; i++) await postMessage(aliceContext.request, room, `earlier message ${i}`);
  await postMessage(aliceContext.request, room, "hello from alice, with a long unbroken word: " + "x".repeat(120));
  const page = await bobContext.newPage();

  // The room list is the home screen.
  await page.goto("/");
  const link = page.locator(`.sidebar a[href="/rooms/${room}"]`);
  await expect(link).toBeVisible();
  await expect(link).toContainText(alice.name);
  await nothingScrollsSideways(page);

  // A room: the list is gone, the room fills the screen, the composer is at
  // the bottom, and only the history scrolls.
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${room}$`));
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator(".sidebar")).toBeHidden();
  const back = page.locator(".chat-header").getByRole("link", { name: "Conversations", exact: true });
  await expect(back).toBeInViewport();
  // A short title is shown whole: the notification picker wraps below it
  // (it used to share the line and cut "Alice …" to "A…"), and the Live
  // badge covers neither.
  const title = page.locator(".chat-header h1");
  const cut = await title.evaluate((el) => el.scrollWidth > el.clientWidth);
  expect(cut, "the title is not cut").toBe(false);
  const [badge, picker] = await Promise.all([".live-badge", ".notify-level"].map((s) => page.locator(s).boundingBox()));
  // The title's text, not its box (whose right padding is kept for the badge).
  const heading = await title.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const { x, y, width, height } = range.getBoundingClientRect();
    return { x, y, width, height };
  });
  const apart = (a: typeof badge, b: typeof badge) =>
    a!.x + a!.width <= b!.x || b!.x + b!.width <= a!.x || a!.y + a!.height <= b!.y || b!.y + b!.height <= a!.y;
  expect(apart(badge, picker), "the Live badge is clear of the picker").toBe(true);
  expect(apart(badge, heading), "the Live badge is clear of the title").toBe(true);
  const composer = page.getByLabel("Message", { exact: true });
  await expect(composer).toBeInViewport();
  const chat = await page.locator(".chat").boundingBox();
  expect(chat!.y + chat!.height).toBeGreaterThan(PHONE.height - 2);
  expect(chat!.y + chat!.height).toBeLessThanOrEqual(PHONE.height + 1);
  const heights = await page.evaluate(() => ({ page: document.documentElement.scrollHeight, window: window.innerHeight }));
  expect(heights.page, "the page itself does not scroll").toBeLessThanOrEqual(heights.window);
  await nothingScrollsSideways(page);

  // Chat: send, and receive live.
  await send(page, "hi alice, from my phone");
  const alicePage = await aliceContext.newPage();
  await openLive(alicePage, room);
  await expect(alicePage.locator("article.message", { hasText: "hi alice, from my phone" })).toBeVisible();
  await send(alicePage, "got it");
  await expect(page.locator("article.message", { hasText: "got it" })).toBeInViewport();
  await expect(composer).toBeInViewport();

  // Back to the list.
  await back.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator(`.sidebar a[href="/rooms/${room}"]`)).toBeVisible();
  await closeAll(aliceContext, bobContext);
});

test("on a phone every other page is a screen of its own, with a way back, under a top bar that fits", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  // An admin has the most in the top bar: Admin, the name, Sign out, the theme.
  await signIn(page, "alice@example.com", "secret123");
  await expect(page.locator(".whoami")).toHaveText("Alice Liddell");
  // The admin page's tables (invitations, audit log) are wider than a phone.
  const invited = await page.request.post("/admin/invitations", { data: { expires_in_hours: 24, max_uses: 1 } });
  expect(invited.status()).toBe(201);
  for (const path of ["/profile", "/people", "/browse", "/admin"]) {
    await page.goto(path);
    await expect(page.locator("main").getByRole("heading").first()).toBeInViewport();
    await expect(page.locator(".sidebar")).toBeHidden();
    await expect(page.getByRole("link", { name: "Conversations", exact: true })).toBeVisible();
    await nothingScrollsSideways(page);
    // The top bar's parts are each on one line, side by side, none over another.
    const boxes = await page.locator(".topbar .brand, .topbar .account > *, .topbar .theme-toggle").evaluateAll((els) =>
      els.map((el) => {
        const box = el.getBoundingClientRect();
        return { left: box.left, right: box.right, height: box.height, name: el.textContent };
      }),
    );
    expect(boxes.length).toBeGreaterThanOrEqual(4);
    for (const box of boxes) expect(box.height, `${box.name} wraps`).toBeLessThan(32);
    for (let i = 1; i < boxes.length; i++) {
      expect(boxes[i].left, `${boxes[i].name} overlaps ${boxes[i - 1].name}`).toBeGreaterThanOrEqual(boxes[i - 1].right);
    }
    expect(boxes[boxes.length - 1].right).toBeLessThanOrEqual(PHONE.width);
  }
  // Those tables scroll sideways in their own boxes, which the keyboard can reach.
  const table = page.getByRole("region", { name: "Invitation table" });
  await expect(table).toHaveAttribute("tabindex", "0");
  const sizes = await table.evaluate((el) => ({ scroll: el.scrollWidth, box: el.clientWidth }));
  expect(sizes.scroll).toBeGreaterThan(sizes.box);
  // The list is the home screen, with no back link.
  await page.getByRole("link", { name: "Conversations", exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.getByRole("link", { name: "Conversations", exact: true })).toBeHidden();
  await context.close();
});

test("on a touch screen Return adds a new line and the Send button sends, as in other chats on a phone", async ({ browser }) => {
  const { room, aliceContext, bobContext } = await twoPeople(browser, PHONE, "light");
  await aliceContext.close();
  const touch = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true, storageState: await bobContext.storageState() });
  const page = await touch.newPage();
  await openLive(page, room);
  const composer = page.getByLabel("Message", { exact: true });
  await expect(composer).toHaveAccessibleDescription("Send sends; Return adds a new line.");
  await composer.click();
  await composer.pressSequentially("first line");
  await composer.press("Enter");
  await composer.pressSequentially("second line");
  await expect(page.locator("article.message")).toHaveCount(0);
  await expect(composer).toHaveValue("first line\nsecond line");
  await page.getByRole("button", { name: "Send" }).tap();
  const sent = page.locator("article.message:not(.pending) .body");
  await expect(sent).toHaveCount(1);
  await expect(sent).toContainText("first line");
  await expect(sent).toContainText("second line");
  await expect(composer).toHaveValue("");
  // The editor too: Return is a new line there (a phone's keyboard has no
  // Shift+Return), and Save saves.
  await sent.tap();
  await page.getByRole("button", { name: "Edit message" }).tap();
  const editor = page.getByLabel("Edit message", { exact: true });
  await expect(editor).toBeFocused();
  await editor.press("Enter");
  await editor.pressSequentially("third line");
  await expect(editor).toHaveValue("first line\nsecond line\nthird line");
  await page.getByRole("button", { name: "Save" }).tap();
  await expect(editor).toBeHidden();
  await expect(sent).toContainText("third line");
  await closeAll(touch, bobContext);
});

test("on a phone a long room name takes one line in the header and is cut in the composer's placeholder", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  await registerUser(context, "planner");
  const title = "A very long room title for the quarterly planning of the infrastructure team";
  const room = await createRoom(context.request, { kind: "open", title });
  const page = await context.newPage();
  await openLive(page, room);
  const heading = page.locator(".chat-header h1");
  await expect(heading).toHaveText(title);
  await expect(heading).toHaveAttribute("title", title);
  const box = await heading.evaluate((el) => ({ height: el.getBoundingClientRect().height, cut: el.scrollWidth > el.clientWidth }));
  expect(box.height, "the name wraps").toBeLessThan(32);
  expect(box.cut).toBe(true);
  // Its text stops short of the Live badge.
  const text = await heading.evaluate((el) => {
    const box = el.getBoundingClientRect();
    return box.right - parseFloat(getComputedStyle(el).paddingRight);
  });
  const live = await page.locator(".live-badge").boundingBox();
  expect(text).toBeLessThanOrEqual(live!.x);
  const composer = page.getByLabel("Message", { exact: true });
  await expect(composer).toHaveAttribute("placeholder", "Message A very long room title…");
  // The header's pop-overs stay on the screen.
  for (const opener of [page.getByText("Room details", { exact: true }), page.getByText("Add people", { exact: true }), page.locator("button.leave-room")]) {
    await opener.click();
    const popover = page.locator(".room-popover:visible");
    await expect(popover).toHaveCount(1);
    const box = await popover.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    await nothingScrollsSideways(page);
    await opener.click();
    await expect(popover).toHaveCount(0);
  }
  await context.close();
});

test("on a phone the reaction picker and a long name stay on the screen, and so does a welcome with a long word", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  await registerUser(context, "thumbs");
  const name = "Maximiliane Wolkenkratzerfensterputzerin von Hohenzollern-Sigmaringen und Oberammergau";
  expect((await context.request.put("/users/me", { data: { user: { name } } })).status()).toBe(200);
  const room = await createRoom(context.request, { kind: "open", title: `Thumbs ${Date.now()}` });
  await postMessage(context.request, room, "react to me");
  const page = await context.newPage();
  await openLive(page, room);
  const message = page.locator("article.message", { hasText: "react to me" });

  // The name wraps; the time beside it stays whole and on the screen.
  const time = await message.locator("header time").boundingBox();
  expect(time!.x + time!.width).toBeLessThanOrEqual(PHONE.width);
  await nothingScrollsSideways(page);

  // The picker opens under the toolbar: every action and every emoji on screen.
  await message.click();
  await message.getByRole("button", { name: "Add a reaction" }).click();
  const picker = message.locator(".react-picker");
  await expect(picker).toBeVisible();
  for (const item of await message.locator(".actions button").all()) {
    const box = await item.boundingBox();
    expect(box!.x, `${await item.getAttribute("aria-label") ?? await item.textContent()} is on the screen`).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
  }
  const reply = await message.getByRole("button", { name: "Reply" }).boundingBox();
  const opener = await message.getByRole("button", { name: "Add a reaction" }).boundingBox();
  expect(reply!.height, "the toolbar's buttons keep one line").toBeLessThan(opener!.height * 1.5);
  expect(opener!.height).toBeLessThan(40);
  await picker.locator(".pick").first().click();
  await expect(message.locator(".reaction")).toHaveCount(1);
  await nothingScrollsSideways(page);

  // The home page's greeting breaks a long word rather than widen the page.
  await page.goto("/");
  await expect(page.locator(".welcome h1, .welcome h2").first()).toContainText("Wolkenkratzer");
  await nothingScrollsSideways(page);
  await context.close();
});

test("on a phone a tapped message's actions open under it, covering neither its time nor falling off the history", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  await registerUser(context, "tapper");
  const room = await createRoom(context.request, { kind: "open", title: `Taps ${Date.now()}` });
  for (let i = 1; i <= 20; i++) await postMessage(context.request, room, `line ${i} of a conversation long enough to scroll`);
  const page = await context.newPage();
  await openLive(page, room);
  const list = page.locator(".messages");
  const newest = page.locator("article.message").last();
  const actions = newest.locator(".actions");
  await expect(actions).toBeHidden();

  await newest.locator(".body").tap();

  await expect(actions).toBeVisible();
  const [shown, bar, text] = [await list.boundingBox(), await actions.boundingBox(), await newest.locator(".body").boundingBox()];
  expect(bar!.y, "under the message's text").toBeGreaterThanOrEqual(text!.y + text!.height - 1);
  expect(bar!.y + bar!.height, "inside the history, not below its edge").toBeLessThanOrEqual(shown!.y + shown!.height + 1);
  // The first message of a group: its name and time stay uncovered.
  const first = page.locator("article.message", { hasText: "line 1 of" });
  await first.scrollIntoViewIfNeeded();
  await first.locator(".body").tap();
  const time = await first.locator("header time").boundingBox();
  const firstBar = await first.locator(".actions").boundingBox();
  expect(firstBar!.y, "below the name and time").toBeGreaterThanOrEqual(time!.y + time!.height);
  await expect(actions).toBeHidden();
  await context.close();
});

test("on a phone a message tapped and then let go of stays closed when new messages arrive", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  await registerUser(context, "letgo");
  const room = await createRoom(context.request, { kind: "open", title: `Let go ${Date.now()}` });
  await postMessage(context.request, room, "tap me, then tap elsewhere");
  const page = await context.newPage();
  await openLive(page, room);
  const message = page.locator("article.message", { hasText: "tap me" });
  await message.locator(".body").tap();
  await expect(message.locator(".actions")).toBeVisible();

  // A tap on the empty part of the history lets go of the message.
  const list = await page.locator(".messages").boundingBox();
  await page.touchscreen.tap(list!.x + list!.width / 2, list!.y + 20);
  await expect(message.locator(".actions")).toBeHidden();
  await postMessage(context.request, room, "something new");
  await expect(page.locator("article.message", { hasText: "something new" })).toBeVisible();

  // Focus does not jump back to it: its actions stay closed.
  await page.waitForTimeout(300);
  await expect(message.locator(".actions")).toBeHidden();
  expect(await page.evaluate(() => document.activeElement?.closest("article.message") == null)).toBe(true);
  await context.close();
});

test("on a phone on its side the messages keep most of the little height there is", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 667, height: 375 }, hasTouch: true });
  await registerUser(context, "sideways");
  const room = await createRoom(context.request, { kind: "open", title: `Sideways ${Date.now()}` });
  await postMessage(context.request, room, "read me lying down");
  const page = await context.newPage();
  await openLive(page, room);
  // The member list folds away (Room details has it); name, picker and menu stay.
  await expect(page.locator(".chat-header .members")).toBeHidden();
  await expect(page.locator(".chat-header h1")).toBeVisible();
  await expect(page.getByText("Room details", { exact: true })).toBeVisible();
  const list = await page.locator(".messages").boundingBox();
  expect(list!.height, "the history's share of 375 pixels").toBeGreaterThan(150);
  // A long draft stops at a quarter of the height.
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill(Array.from({ length: 20 }, (_, n) => `line ${n + 1}`).join("\n"));
  expect((await composer.boundingBox())!.height).toBeLessThanOrEqual(375 * 0.25 + 1);
  await nothingScrollsSideways(page);
  await context.close();
});

test("on a wide screen the room list stays beside the room and there is no back control", async ({ browser }) => {
  const { room, aliceContext, bobContext } = await twoPeople(browser, DESKTOP, "light");
  const page = await bobContext.newPage();
  await openLive(page, room);
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.locator(".chat-header").getByRole("link", { name: "Conversations", exact: true })).toBeHidden();
  await expect(page.getByRole("link", { name: "Conversations", exact: true })).toBeHidden();
  await closeAll(aliceContext, bobContext);
});

for (const colorScheme of ["light", "dark"] as const) {
  for (const [name, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    test(`a screenshot of the room on the ${name} in the ${colorScheme} theme`, async ({ browser }) => {
      const { room, aliceContext, bobContext } = await twoPeople(browser, viewport, colorScheme);
      await postMessage(aliceContext.request, room, "Morning! The **release** notes are in `docs/`.");
      await postMessage(aliceContext.request, room, "And a link: https://example.com");
      await postMessage(bobContext.request, room, "Thanks, reading them now.");
      const page = await bobContext.newPage();
      await openLive(page, room);
      await expect(page.locator("article.message")).toHaveCount(3);
      await nothingScrollsSideways(page);
      const file = path.join(__dirname, "..", ".results", "screenshots", `room-${name}-${colorScheme}.png`);
      await page.screenshot({ path: file });
      await closeAll(aliceContext, bobContext);
    });
  }
}

test("on a phone the keyboard opening, or the phone turned, keeps a reader at the newest message there, live ones too", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  await registerUser(context, "typist");
  const room = await createRoom(context.request, { kind: "open", title: `Keyboard ${Date.now()}` });
  for (let i = 1; i <= 20; i++) await postMessage(context.request, room, `line ${i} before the keyboard`);
  const page = await context.newPage();
  await openLive(page, room);
  const newest = page.locator("article.message").last();
  await expect(newest).toContainText("line 20");
  await expect(newest).toBeInViewport();
  await page.getByLabel("Message", { exact: true }).tap();

  // The keyboard takes half the screen (the page is resized for it, as
  // `interactive-widget=resizes-content` asks).
  await page.setViewportSize({ width: PHONE.width, height: 350 });
  const gap = () => page.locator(".messages").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await expect.poll(gap).toBeLessThanOrEqual(2);
  await expect(newest).toBeInViewport();
  await expect(page.getByRole("button", { name: /Jump to the newest|new message/ })).toHaveCount(0);
  // A message arriving now scrolls in, as it would with the keyboard shut.
  await postMessage(context.request, room, "live while typing");
  const live = page.locator("article.message", { hasText: "live while typing" });
  await expect(live).toBeInViewport();
  await expect.poll(gap).toBeLessThanOrEqual(2);
  // Turned on its side.
  await page.setViewportSize({ width: PHONE.height, height: PHONE.width });
  await expect.poll(gap).toBeLessThanOrEqual(2);
  await expect(live).toBeInViewport();
  await context.close();
});

test("on a touch screen fields do not zoom the page, small controls are thumb-sized, and pop-overs and code labels fit", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 667, height: 375 }, hasTouch: true, isMobile: true });
  await registerUser(context, "thumbs");
  const room = await createRoom(context.request, { kind: "open", title: `Thumbs ${Date.now()}` });
  await postMessage(context.request, room, "```rust\nfn main() {}\n```");
  const page = await context.newPage();
  // A field under 16px makes Safari zoom the page when it is tapped.
  const smallFields = () =>
    page.evaluate(() =>
      [...document.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea, select")]
        .filter((field) => field.getBoundingClientRect().width > 0)
        .filter((field) => parseFloat(getComputedStyle(field).fontSize) < 16)
        .map((field) => field.id || field.getAttribute("name") || field.tagName),
    );
  await page.goto("/profile");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  expect(await smallFields()).toEqual([]);
  await openLive(page, room);
  expect(await smallFields()).toEqual([]);
  for (const control of [page.getByText("Room details", { exact: true }), page.locator("button.leave-room")]) {
    const box = (await control.boundingBox())!;
    expect(Math.min(box.width, box.height), "at least 24px each way").toBeGreaterThanOrEqual(24);
  }
  // The code's language label sits above its first line, not on it.
  const code = page.locator(".body.markdown pre");
  const [labelBottom, codeTop] = await code.evaluate((pre) => {
    const label = getComputedStyle(pre, "::before");
    const line = pre.querySelector("code")!.getBoundingClientRect().top - pre.getBoundingClientRect().top;
    const height = parseFloat(label.height) || parseFloat(label.fontSize) * 1.3;
    return [parseFloat(label.top) + height, line];
  });
  expect(labelBottom).toBeLessThanOrEqual(codeTop + 1);
  // Room details, on a phone on its side: within the screen, scrolling in itself.
  await page.getByText("Room details", { exact: true }).tap();
  const popover = page.locator(".room-popover").first();
  await expect(popover).toBeVisible();
  const box = (await popover.boundingBox())!;
  expect(box.y + box.height, "its bottom on the screen").toBeLessThanOrEqual(375);
  expect(await page.evaluate(() => document.documentElement.scrollHeight), "the page itself does not scroll").toBeLessThanOrEqual(376);
  await context.close();
});
