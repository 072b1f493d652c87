import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, send } from "./helpers";

// Issue 15, "What to build" 2 and 5: grouped messages with avatars, day
// separators and full times, links that open in a new tab, a short
// conversation at the bottom; the composer focused on open, and a draft per
// room kept across room switches and a reload.

/** The initials an avatar shows for a display name. */
function initials(name: string): string {
  const words = name.split(/\s+/).filter(Boolean);
  const firsts = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return firsts.map((w) => w[0].toUpperCase()).join("");
}

test("quick messages by one author show one name and one avatar, and another author starts a new group", async ({
  browser,
}) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage } = await pair(browser);
  await postMessage(aliceContext.request, room, "first of two");
  await postMessage(aliceContext.request, room, "second of two");
  await postMessage(bobContext.request, room, "bob answers");
  await openLive(alicePage, room);

  const first = alicePage.locator("article.message", { hasText: "first of two" });
  const second = alicePage.locator("article.message", { hasText: "second of two" });
  const answer = alicePage.locator("article.message", { hasText: "bob answers" });
  await expect(alicePage.locator("article.message .author")).toHaveText([alice.name, bob.name]);
  await expect(second).toHaveClass(/continued/);
  await expect(second.locator(".author")).toHaveCount(0);
  await expect(second.locator(".avatar")).toHaveCount(0);
  // Not shown, but a screen reader going message by message hears whose it is.
  await expect(second.locator(".sr-author")).toHaveText(alice.name);
  expect(await second.locator(".sr-author").evaluate((e) => e.getBoundingClientRect().width)).toBeLessThanOrEqual(1);

  // Each group's avatar: initials (no picture set), on a palette colour.
  await expect(first.locator(".avatar.initials")).toHaveText(initials(alice.name));
  await expect(first.locator(".avatar.initials")).toHaveClass(/\bc\d+\b/);
  await expect(answer.locator(".avatar.initials")).toHaveText(initials(bob.name));
  await expect(answer.locator(".avatar.initials")).toHaveAttribute("aria-hidden", "true");

  // Every time carries its full timestamp; the day separator says Today.
  for (const message of [first, second]) {
    await expect(message.locator("time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
    await expect(message.locator("time")).toHaveAttribute("title", / at \d\d:\d\d:\d\d/);
  }
  await expect(alicePage.locator(".day-separator")).toHaveText(["Today"]);

  // A live message from me within the minute joins my group; bob's opened
  // a group after mine, so mine after his starts another.
  await send(alicePage, "alice again");
  const again = alicePage.locator("article.message:not(.pending)", { hasText: "alice again" });
  await expect(again).not.toHaveClass(/continued/);
  await expect(again.locator(".author")).toHaveText(alice.name);
  await send(alicePage, "and once more");
  await expect(alicePage.locator("article.message:not(.pending)", { hasText: "and once more" })).toHaveClass(/continued/);
  await closeAll(aliceContext, bobContext);
});

test("urls in messages are links that open in a new tab without an opener or referrer", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "linker");
  const room = await createRoom(context.request, { kind: "open", title: `Links ${Date.now()}` });
  await postMessage(context.request, room, "docs at https://example.com/guide today");
  const page = await context.newPage();
  await page.goto(`/rooms/${room}`);
  const link = page.locator("article.message .body a", { hasText: "https://example.com/guide" });
  await expect(link).toHaveAttribute("href", "https://example.com/guide");
  await expect(link).toHaveAttribute("target", "_blank");
  await expect(link).toHaveAttribute("rel", "noopener noreferrer nofollow");
  await context.close();
});

test("a short conversation sits at the bottom, next to the composer", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "shorty");
  const room = await createRoom(context.request, { kind: "open", title: `Short ${Date.now()}` });
  await postMessage(context.request, room, "only message");
  const page = await context.newPage();
  await page.goto(`/rooms/${room}`);
  const list = await page.locator(".messages").boundingBox();
  const message = await page.locator("article.message", { hasText: "only message" }).boundingBox();
  expect(list && message).toBeTruthy();
  // The list is far taller than one message, and the message is at its foot.
  expect(list!.height).toBeGreaterThan(300);
  expect(list!.y + list!.height - (message!.y + message!.height)).toBeLessThan(40);
  await context.close();
});

test("opening a room focuses the composer, on a page load and on a switch from another room", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "focuser");
  const stamp = Date.now();
  const first = await createRoom(context.request, { kind: "open", title: `Focus one ${stamp}` });
  const second = await createRoom(context.request, { kind: "open", title: `Focus two ${stamp}` });
  const page = await context.newPage();
  const composer = page.getByLabel("Message", { exact: true });
  await openLive(page, first);
  await expect(composer).toBeFocused();
  await page.locator(".room-link", { hasText: `Focus two ${stamp}` }).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-room-id", String(second));
  await expect(composer).toBeFocused();
  await context.close();
});

test("two tabs of one room share its draft: typed in one shows in the other, and sent from one leaves neither to send it again", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "twotabs");
  const room = await createRoom(context.request, { kind: "open", title: `Two tabs ${Date.now()}` });
  const [first, second] = [await context.newPage(), await context.newPage()];
  await openLive(first, room);
  await openLive(second, room);
  const [one, two] = [first, second].map((page) => page.getByLabel("Message", { exact: true }));

  await one.pressSequentially("written in the first tab");
  await expect(two).toHaveValue("written in the first tab");
  await two.press("End");
  await two.pressSequentially(", finished in the second");
  await expect(one).toHaveValue("written in the first tab, finished in the second");

  // Sent from the second: the first's composer is empty too, and Enter
  // there sends nothing more.
  await two.press("Enter");
  await expect(second.locator("article.message:not(.pending) .body")).toHaveText(["written in the first tab, finished in the second"]);
  await expect(one).toHaveValue("");
  await one.press("Enter");
  await second.waitForTimeout(1_000);
  const history = await (await context.request.get(`/conversations/${room}/messages`)).json();
  expect(history.messages.map((m: { body: string }) => m.body)).toEqual(["written in the first tab, finished in the second"]);
  await context.close();
});

test("each room keeps its draft across room switches and a reload, until it is sent", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "drafter");
  const stamp = Date.now();
  const first = await createRoom(context.request, { kind: "open", title: `Drafts one ${stamp}` });
  const second = await createRoom(context.request, { kind: "open", title: `Drafts two ${stamp}` });
  const page = await context.newPage();
  const composer = page.getByLabel("Message", { exact: true });

  await openLive(page, first);
  await composer.pressSequentially("half a thought");

  // To the other room through the sidebar (no page load): its composer is
  // empty.
  await page.locator(".room-link", { hasText: `Drafts two ${stamp}` }).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-room-id", String(second));
  await expect(composer).toHaveValue("");
  await composer.pressSequentially("other room's draft");

  // Back: the first room's draft is there.
  await page.locator(".room-link", { hasText: `Drafts one ${stamp}` }).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-room-id", String(first));
  await expect(composer).toHaveValue("half a thought");

  // And after a reload.
  await page.reload();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(composer).toHaveValue("half a thought");

  // Sending it clears it, for good.
  await composer.press("Enter");
  await expect(page.locator("article.message:not(.pending) .body", { hasText: "half a thought" })).toBeVisible();
  await expect(composer).toHaveValue("");
  await page.reload();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(composer).toHaveValue("");

  // The other room's draft was never touched.
  await page.goto(`/rooms/${second}`);
  await expect(composer).toHaveValue("other room's draft");
  await context.close();
});

test("up in an empty composer edits my last message: the editor has focus, Enter saves, Esc cancels", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "keyboard");
  const room = await createRoom(context.request, { kind: "open", title: `Keys ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  await send(page, "first draft of a thought");
  const composer = page.getByLabel("Message", { exact: true });
  // By number: while it is edited, its text is in a textarea, not the row's text.
  const number = await page.locator("article.message", { hasText: "thought" }).getAttribute("data-number");
  const message = page.locator(`article.message[data-number="${number}"]`);
  const editor = message.getByLabel("Edit message");

  await expect(composer).toBeFocused();
  await composer.press("ArrowUp");
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue("first draft of a thought");
  await editor.press("End");
  await editor.press("Shift+Enter");
  await editor.pressSequentially("second line");
  await expect(editor).toHaveValue("first draft of a thought\nsecond line");
  await editor.press("Enter");
  await expect(editor).toHaveCount(0);
  await expect(message.locator(".edited")).toBeVisible();
  await expect(message.locator(".body")).toContainText("second line");
  await expect(composer).toBeFocused();

  // Esc drops the change.
  await composer.press("ArrowUp");
  await expect(editor).toBeFocused();
  await editor.pressSequentially(" never saved");
  await editor.press("Escape");
  await expect(editor).toHaveCount(0);
  await expect(message.locator(".body")).not.toContainText("never saved");
  await expect(composer).toBeFocused();

  // With text in the composer, Up is only a cursor move.
  await composer.fill("typing");
  await composer.press("ArrowUp");
  await expect(editor).toHaveCount(0);
  await expect(composer).toBeFocused();
  await context.close();
});

test("a grouped message says (edited) under its text, Esc drops a reply being written, and the composer grows with its text", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "marks");
  const room = await createRoom(context.request, { kind: "open", title: `Marks ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  await send(page, "the first of two");
  await send(page, "the second of two");
  const composer = page.getByLabel("Message", { exact: true });
  // By number: while it is edited, its text is in a textarea.
  const number = await page.locator("article.message", { hasText: "the second of two" }).getAttribute("data-number");
  const second = page.locator(`article.message[data-number="${number}"]`);
  await expect(second).toHaveClass(/continued/);

  // Edited, it keeps its place in the group; the mark follows its text.
  await composer.press("ArrowUp");
  const editor = second.getByLabel("Edit message");
  await editor.press("End");
  await editor.pressSequentially(", edited");
  await editor.press("Enter");
  await expect(second.locator(".marks .edited")).toHaveText("(edited)");
  await expect(second.locator("header")).toHaveCount(0);
  const after = await second.evaluate((row) => {
    const body = row.querySelector(".body")!;
    const mark = row.querySelector(".edited")!;
    return (body.compareDocumentPosition(mark) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  });
  expect(after).toBe(true);

  // Esc in the composer drops the reply; what was typed stays.
  const first = page.locator("article.message", { hasText: "the first of two" });
  await first.hover();
  await first.getByRole("button", { name: "Reply" }).click();
  await expect(page.locator(".composer .replying")).toContainText("the first of two");
  await composer.fill("not a reply after all");
  await composer.press("Escape");
  await expect(page.locator(".composer .replying")).toHaveCount(0);
  await expect(composer).toHaveValue("not a reply after all");
  await expect(composer).toBeFocused();

  // Twelve lines show as twelve lines; a hundred stop at 40 % of the window.
  const height = () => composer.evaluate((area) => area.getBoundingClientRect().height);
  const empty = await height();
  await composer.fill(Array.from({ length: 12 }, (_, n) => `line ${n + 1}`).join("\n"));
  expect(await height()).toBeGreaterThan(empty * 3);
  await composer.fill(Array.from({ length: 100 }, (_, n) => `line ${n + 1}`).join("\n"));
  const window = page.viewportSize()!.height;
  expect(await height()).toBeLessThanOrEqual(window * 0.4 + 1);
  expect(await height()).toBeGreaterThan(window * 0.3);
  await context.close();
});

test("a composer that grows while the history is at its newest message keeps that message in view above it", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  await registerUser(context, "grower");
  const room = await createRoom(context.request, { kind: "open", title: `Grow ${Date.now()}` });
  for (let i = 1; i <= 40; i++) await postMessage(context.request, room, `filler ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  const list = page.locator(".messages");
  const newest = page.locator('article.message[data-number="40"]');
  const belowView = () => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await expect.poll(belowView).toBeLessThanOrEqual(2);
  const composer = page.getByLabel("Message", { exact: true });
  const height = () => composer.evaluate((area) => area.getBoundingClientRect().height);
  const empty = await height();

  await composer.focus();
  for (let line = 1; line <= 6; line++) {
    await composer.pressSequentially(`line ${line}`);
    await composer.press("Shift+Enter");
  }

  expect(await height()).toBeGreaterThan(empty + 60);
  await expect.poll(belowView).toBeLessThanOrEqual(2);
  const [shown, last] = [await list.boundingBox(), await newest.boundingBox()];
  expect(last!.y + last!.height, "the newest message ends above the composer").toBeLessThanOrEqual(shown!.y + shown!.height + 1);

  // Scrolled up, the history stays where it was read while the composer grows.
  await composer.fill("");
  await expect.poll(belowView).toBeLessThanOrEqual(2);
  await list.evaluate((el) => (el.scrollTop -= 300));
  await expect.poll(belowView).toBeGreaterThan(250);
  const top = await list.evaluate((el) => el.scrollTop);
  for (let line = 1; line <= 4; line++) await composer.press("Shift+Enter");
  await page.waitForTimeout(300);
  expect(await list.evaluate((el) => el.scrollTop)).toBe(top);
  await context.close();
});

/** Posts `count` messages "message 1".. to `room`, a few at a time, in number order. */
async function fill(request: import("@playwright/test").APIRequestContext, room: number, count: number) {
  for (let start = 1; start <= count; start += 20) {
    const batch = [];
    for (let n = start; n < start + 20 && n <= count; n++) batch.push(postMessage(request, room, `message ${n}`));
    await Promise.all(batch);
  }
}

/** The numbers the list shows, in order. */
const listed = (page: import("@playwright/test").Page) =>
  page.locator("article.message[data-number]").evaluateAll((rows) => rows.map((row) => Number(row.getAttribute("data-number"))));

/** Scrolls the list to its top until the start of the room shows. */
async function scrollToStart(page: import("@playwright/test").Page) {
  await expect(async () => {
    await page.locator(".messages").evaluate((el) => (el.scrollTop = 0));
    await expect(page.locator(".start-of-history")).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
}

test("an edit of a message not loaded puts nothing in the list: scrolled back, every message is there, in order", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const { room, aliceContext, bobContext, bobPage } = await pair(browser);
  await fill(aliceContext.request, room, 120);
  // All read: the room opens at its newest, 71..120.
  expect((await bobContext.request.put(`/conversations/${room}/read`)).status()).toBe(200);
  await openLive(bobPage, room);
  await expect(bobPage.locator("article.message").last()).toHaveAttribute("data-number", "120");
  const edit = await aliceContext.request.patch(`/conversations/${room}/messages/5`, { data: { body: "message 5, edited" } });
  expect(edit.status()).toBe(200);
  await bobPage.waitForTimeout(500);
  expect((await listed(bobPage))[0]).toBeGreaterThan(5);
  await scrollToStart(bobPage);
  const numbers = await listed(bobPage);
  expect(numbers).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  await expect(bobPage.locator('article.message[data-number="5"] .body')).toHaveText("message 5, edited");
  await closeAll(aliceContext, bobContext);
});

test("a message arriving while I read far above the newest is not listed there, and reading marks only what I saw", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const { room, aliceContext, bobContext, bobPage } = await pair(browser);
  await fill(aliceContext.request, room, 120);
  expect((await bobContext.request.put(`/conversations/${room}/read`, { data: { number: 5 } })).status()).toBe(200);
  await openLive(bobPage, room);
  // Opened at the first unread, with the newest messages not loaded below.
  await expect(bobPage.locator(".load-newer")).toBeVisible();
  await postMessage(aliceContext.request, room, "late news");
  // Said below ("1 new message"), not listed past the messages missing.
  await expect(bobPage.locator(".jump-latest")).toHaveText(/1 new message/);
  await bobPage.waitForTimeout(500);
  expect(await listed(bobPage)).not.toContain(121);
  const shown = await listed(bobPage);
  expect(shown).toEqual(Array.from({ length: shown.length }, (_, i) => shown[0] + i));
  // A few steps down the backlog.
  await bobPage.locator(".messages").hover();
  for (let i = 0; i < 3; i++) {
    await bobPage.mouse.wheel(0, 300);
    await bobPage.waitForTimeout(300);
  }
  await bobPage.waitForTimeout(1_000);
  const unread = async () => (await (await bobContext.request.get("/conversations")).json()).find((c: { id: number }) => c.id === room).unread_count;
  expect(await unread()).toBeGreaterThan(50);
  await closeAll(aliceContext, bobContext);
});

test("scrolling far back keeps the list to 300 messages, in order, and back down the newest are there again", async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext();
  await registerUser(context, "historian");
  const room = await createRoom(context.request, { kind: "open", title: `Long history ${Date.now()}` });
  await fill(context.request, room, 700);
  const page = await context.newPage();
  await openLive(page, room);
  await expect(page.locator("article.message").last()).toHaveAttribute("data-number", "700");
  await scrollToStart(page);
  const numbers = await listed(page);
  expect(numbers.length).toBeLessThanOrEqual(300);
  expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
  // The newest went from the list; they come back by scrolling, or at once.
  await expect(page.locator(".load-newer")).toBeVisible();
  await page.getByRole("button", { name: /Jump to the newest/ }).click();
  await expect(page.locator("article.message").last()).toHaveAttribute("data-number", "700");
  const back = await listed(page);
  expect(back).toEqual(Array.from({ length: back.length }, (_, i) => 700 - back.length + 1 + i));
  await context.close();
});
