import { expect, test, type Browser, type Page } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, send } from "./helpers";
import { startProxy, type Proxy } from "./proxy";

/** A user with two open rooms, a page live in the first, then cut off. */
async function offlineInFirstRoom(browser: Browser) {
  const context = await browser.newContext();
  const user = await registerUser(context, "rover");
  const first = await createRoom(context.request, { kind: "open", title: `First ${Date.now()}` });
  const second = await createRoom(context.request, { kind: "open", title: `Second ${Date.now()}` });
  await postMessage(context.request, second, "waiting in the second room");
  const page = await context.newPage();
  await openLive(page, first);
  await expect(page.locator(`.room-link[data-room-id="${second}"]`)).toBeVisible();
  await context.setOffline(true);
  await expect(page.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
  return { context, page, first, second, user };
}

test("a room opened while offline is an error with a retry, and loads by itself when the link returns", async ({ browser }) => {
  const { context, page, second } = await offlineInFirstRoom(browser);

  await page.locator(`.room-link[data-room-id="${second}"]`).click();

  await expect(page).toHaveURL(new RegExp(`/rooms/${second}$`));
  await expect(page.locator(".page .load-error")).toContainText("Could not load this conversation");
  await expect(page.locator(".page .load-error").getByRole("button", { name: "Retry" })).toBeVisible();
  await expect(page.getByText("Conversation not found")).toHaveCount(0);

  await context.setOffline(false);

  await expect(page.locator("article.message .body")).toHaveText(["waiting in the second room"], { timeout: 30_000 });
  await expect(page.locator(".page .load-error")).toHaveCount(0);
  await context.close();
});

test("a room that does not exist is still not found", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "lost");
  const page = await context.newPage();
  await page.goto("/rooms/987654321");
  await expect(page.getByRole("heading", { name: "Conversation not found" })).toBeVisible();
  await context.close();
});

test("while offline the sidebar says its list could not be loaded, not that there are no conversations", async ({ browser }) => {
  const { context, page, first, second } = await offlineInFirstRoom(browser);

  // Navigating refetches the room list, which fails while offline.
  await page.locator(`.room-link[data-room-id="${second}"]`).click();

  await expect(page.locator(".sidebar .load-error")).toContainText("Could not load your conversations");
  await expect(page.getByText("No rooms yet.")).toHaveCount(0);
  await expect(page.locator(`.room-link[data-room-id="${first}"]`)).toBeVisible();

  await context.setOffline(false);

  await expect(page.locator(`.room-link[data-room-id="${first}"]`)).toBeVisible({ timeout: 30_000 });
  await expect(page.locator(`.room-link[data-room-id="${second}"]`)).toBeVisible();
  await expect(page.locator(".sidebar .load-error")).toHaveCount(0);
  await context.close();
});

test("the offline banner shrinks the chat: the composer and the Not sent line stay on screen", async ({ browser }) => {
  const { context, page } = await offlineInFirstRoom(browser);
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("into the void");
  await composer.press("Enter");
  const failed = page.locator("article.message.failed");
  await expect(failed).toBeVisible();

  const viewport = page.viewportSize()!;
  const notSent = await failed.locator(".form-error").boundingBox();
  const form = await page.locator("form.composer").boundingBox();
  expect(notSent!.y + notSent!.height).toBeLessThanOrEqual(viewport.height);
  expect(form!.y + form!.height).toBeLessThanOrEqual(viewport.height);
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(viewport.height);
  await context.close();
});

test("messages that failed to send while offline are sent by themselves, in order, when the link returns", async ({ browser }) => {
  const { context, page, first } = await offlineInFirstRoom(browser);
  const composer = page.getByLabel("Message", { exact: true });
  for (const text of ["queued 1", "queued 2", "queued 3"]) {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator("article.message.failed", { hasText: text })).toBeVisible();
  }
  // Not a red "Not sent. Retry": they wait for the link, which sends them.
  await expect(page.locator("article.message.failed .form-error")).toHaveText(
    Array(3).fill("Waiting for the connection: it is sent when you are back online."),
  );
  await expect(page.locator("article.message").getByRole("button", { name: "Retry" })).toHaveCount(0);
  // Nor is their text red: they are waiting, not in error.
  const waitingColour = await page.locator("article.message.failed .body").first().evaluate((el) => getComputedStyle(el).color);
  const errorColour = await page.locator("article.message.failed .form-error").first().evaluate((el) => {
    const probe = document.createElement("p");
    probe.className = "form-error";
    el.closest(".messages")!.appendChild(probe);
    const colour = getComputedStyle(probe).color;
    probe.remove();
    return colour;
  });
  expect(waitingColour).not.toBe(errorColour);

  await context.setOffline(false);

  await expect(page.locator("article.message.failed")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator("article.message.pending")).toHaveCount(0);
  await expect(page.locator("article.message .body")).toHaveText(["queued 1", "queued 2", "queued 3"]);
  const numbers = await page.locator("article.message").evaluateAll((els) => els.map((el) => el.getAttribute("data-number")));
  expect(numbers).toEqual(["1", "2", "3"]);
  // The server has each once, in the order they were written.
  const history = await context.request.get(`/conversations/${first}/messages`);
  const bodies = ((await history.json()).messages as { body: string }[]).map((m) => m.body);
  expect(bodies).toEqual(["queued 1", "queued 2", "queued 3"]);
  await context.close();
});

test("a message written as the link returns goes after the ones that waited for it", async ({ browser }) => {
  const { context, page, first } = await offlineInFirstRoom(browser);
  const composer = page.getByLabel("Message", { exact: true });
  for (const text of ["waited 1", "waited 2", "waited 3"]) {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator("article.message.failed", { hasText: text })).toBeVisible();
  }

  // Written at once, before the page has even noticed the link is back.
  await context.setOffline(false);
  await composer.fill("written after");
  await composer.press("Enter");

  await expect(page.locator("article.message.failed")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator("article.message.pending")).toHaveCount(0);
  const expected = ["waited 1", "waited 2", "waited 3", "written after"];
  await expect(page.locator("article.message .body")).toHaveText(expected);
  const history = await context.request.get(`/conversations/${first}/messages`);
  expect(((await history.json()).messages as { body: string }[]).map((m) => m.body)).toEqual(expected);
  await context.close();
});

test("messages sent in quick succession reach the server in the order written, even when the first is slow", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "quick");
  const room = await createRoom(context.request, { kind: "open", title: `Quick ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  // The first send is held on its way; a page that sent the second at
  // once would have the server take it first.
  let held = true;
  await page.route(/\/fn\/send_message/, async (route) => {
    if (held) {
      held = false;
      await new Promise((done) => setTimeout(done, 1500));
    }
    await route.continue();
  });
  const composer = page.getByLabel("Message", { exact: true });
  for (const text of ["one", "two", "three"]) {
    await composer.fill(text);
    await composer.press("Enter");
  }

  await expect(page.locator("article.message:not(.pending) .body")).toHaveText(["one", "two", "three"], { timeout: 15_000 });
  const history = await context.request.get(`/conversations/${room}/messages`);
  expect(((await history.json()).messages as { body: string }[]).map((m) => m.body)).toEqual(["one", "two", "three"]);
  await context.close();
});

test("a link that keeps dropping while both people write loses, doubles and reorders nothing, and the page never fails", async ({ browser }) => {
  // A direct room: the sidebar shows the other person's presence, which
  // every drop changes as the list is redrawn (that once made the page
  // fail; the fixture fails the test on any page error).
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(alicePage, room);
  await openLive(bobPage, room);
  const aliceComposer = alicePage.getByLabel("Message", { exact: true });
  const written: string[] = [];
  for (let cycle = 0; cycle < 6; cycle++) {
    for (let i = 0; i < 3; i++) {
      const text = `a${cycle}-${i}`;
      await aliceComposer.fill(text);
      await aliceComposer.press("Enter");
      written.push(text);
      await postMessage(bobContext.request, room, `b${cycle}-${i}`);
    }
    await aliceContext.setOffline(cycle % 2 === 0);
    await alicePage.waitForTimeout(300 + 150 * cycle);
  }
  await aliceContext.setOffline(false);

  await expect(alicePage.locator("article.message.failed, article.message.pending")).toHaveCount(0, { timeout: 30_000 });
  const history = await aliceContext.request.get(`/conversations/${room}/messages?limit=100`);
  const bodies = ((await history.json()).messages as { body: string }[]).map((m) => m.body);
  expect(bodies.filter((b) => b.startsWith("a"))).toEqual(written);
  expect(bodies).toHaveLength(36);
  await expect(alicePage.locator("article.message .body")).toHaveText(bodies, { timeout: 15_000 });
  await expect(bobPage.locator("article.message .body")).toHaveText(bodies, { timeout: 15_000 });
  await closeAll(aliceContext, bobContext);
});

test("while the link is down the banner stays up and the reconnect attempts back off", async ({ browser }) => {
  const { context, page } = await offlineInFirstRoom(browser);
  // Every attempt that fails to open is one socket; the banner must not
  // blink off for any of them (a failed attempt is not "online").
  await page.evaluate(() => {
    const w = window as unknown as { bannerGone: number };
    w.bannerGone = 0;
    new MutationObserver(() => {
      if (!document.querySelector(".offline-banner")) w.bannerGone += 1;
    }).observe(document.body, { childList: true, subtree: true });
  });
  let attempts = 0;
  page.on("websocket", () => (attempts += 1));

  await page.waitForTimeout(12_000);

  // Back-off from 0.5–1 s, doubling: at most five attempts in 12 s (one
  // every 0.5–1 s, seventeen or so, without it).
  expect(attempts).toBeGreaterThanOrEqual(1);
  expect(attempts).toBeLessThanOrEqual(5);
  expect(await page.evaluate(() => (window as unknown as { bannerGone: number }).bannerGone)).toBe(0);
  await expect(page.locator(".chat")).not.toHaveAttribute("data-live", "true");

  // When the browser says the network is back, it reconnects at once.
  await context.setOffline(false);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 5_000 });
  await expect(page.locator(".offline-banner")).toHaveCount(0);
  await context.close();
});

test("messages queued offline are sent when the link returns even after a switch to another room, each once and in order", async ({ browser }) => {
  const { context, page, first, second } = await offlineInFirstRoom(browser);
  // Someone else in the first room, to see what arrives there.
  const watcherContext = await browser.newContext();
  await registerUser(watcherContext, "watcher");
  expect((await watcherContext.request.post(`/conversations/${first}/join`)).status()).toBe(200);
  const composer = page.getByLabel("Message", { exact: true });
  for (const text of ["q1", "q2"]) {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator("article.message.failed", { hasText: text }).locator(".form-error")).toHaveText(
      "Waiting for the connection: it is sent when you are back online.",
    );
  }

  // Off to the other room before the link returns: the queue goes on
  // waiting without the first room's page.
  await page.locator(`.room-link[data-room-id="${second}"]`).click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${second}$`));
  await context.setOffline(false);
  await expect(page.locator("article.message .body")).toHaveText(["waiting in the second room"], { timeout: 30_000 });

  // The server gets each once, in the order they were written.
  const bodies = async () =>
    ((await (await context.request.get(`/conversations/${first}/messages`)).json()).messages as { body: string }[]).map((m) => m.body);
  await expect.poll(bodies, { timeout: 30_000 }).toEqual(["q1", "q2"]);
  const watcher = await watcherContext.newPage();
  await openLive(watcher, first);
  await expect(watcher.locator("article.message .body")).toHaveText(["q1", "q2"]);

  // Back in the first room: sent, nothing left pending or failed.
  await page.locator(`.room-link[data-room-id="${first}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator("article.message .body")).toHaveText(["q1", "q2"]);
  await expect(page.locator("article.message.failed, article.message.pending")).toHaveCount(0);
  expect(await bodies()).toEqual(["q1", "q2"]);
  await closeAll(context, watcherContext);
});

test("a message that could not be sent is still there with Retry after a look at another room, and Retry sends it once", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "retrier");
  const first = await createRoom(context.request, { kind: "open", title: `Unsent ${Date.now()}` });
  const second = await createRoom(context.request, { kind: "open", title: `Meanwhile ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, first);
  // The server fails the send (the link itself stays up).
  await page.route(/\/fn\/send_message/, (route) => route.fulfill({ status: 500, body: "down for a moment" }));
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("try me again");
  await composer.press("Enter");
  const failed = page.locator("article.message.failed", { hasText: "try me again" });
  await expect(failed.getByRole("button", { name: "Retry" })).toBeVisible();

  await page.locator(`.room-link[data-room-id="${second}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(failed).toHaveCount(0);
  await page.locator(`.room-link[data-room-id="${first}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });

  await expect(failed.getByRole("button", { name: "Retry" })).toBeVisible();
  await page.unroute(/\/fn\/send_message/);
  await failed.getByRole("button", { name: "Retry" }).click();
  await expect(page.locator("article.message:not(.pending):not(.failed) .body")).toHaveText(["try me again"]);
  await expect(page.locator("article.message.failed, article.message.pending")).toHaveCount(0);
  const history = await (await context.request.get(`/conversations/${first}/messages`)).json();
  expect((history.messages as { body: string }[]).map((m) => m.body)).toEqual(["try me again"]);
  await context.close();
});

test("a send still queued at sign-out is forgotten: it is neither shown to nor sent as whoever signs in next", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "leaving");
  const room = await createRoom(context.request, { kind: "open", title: `Shared desk ${Date.now()}` });
  const nextContext = await browser.newContext();
  const next = await registerUser(nextContext, "next");
  expect((await nextContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const page = await context.newPage();
  await openLive(page, room);
  await page.route(/\/fn\/send_message/, (route) => route.fulfill({ status: 500, body: "down for a moment" }));
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("mine, not theirs");
  await composer.press("Enter");
  await expect(page.locator("article.message.failed")).toBeVisible();
  await page.unroute(/\/fn\/send_message/);

  // Someone else signs in on the same page (the app is not reloaded).
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Email or username").fill(next.username);
  await page.getByLabel("Password").fill("secret123");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(".whoami")).toHaveText(next.name);
  // Nor is it kept in the browser for a reload.
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("hearth.outbox.")))).toEqual([]);
  await page.locator(`.room-link[data-room-id="${room}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator("article.message")).toHaveCount(0);
  // A reconnect resends what is queued: nothing.
  await context.setOffline(true);
  await expect(page.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
  await context.setOffline(false);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await page.waitForTimeout(2_000);
  const history = await (await nextContext.request.get(`/conversations/${room}/messages`)).json();
  expect(history.messages).toHaveLength(0);
  await closeAll(context, nextContext);
});

test("a tab offline while its user signed out and someone else signed in elsewhere in the browser reloads as them, and sends nothing as them", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const first = await registerUser(context, "sleeper");
  const room = await createRoom(context.request, { kind: "open", title: `Shared laptop ${Date.now()}` });
  const otherContext = await browser.newContext();
  const other = await registerUser(otherContext, "waker");
  expect((await otherContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const page = await context.newPage();
  await openLive(page, room);
  await expect(page.locator(".whoami")).toHaveText(first.name);

  // The tab loses the network (a laptop asleep) with a message waiting.
  await context.setOffline(true);
  await expect(page.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("written by the first user");
  await composer.press("Enter");
  await expect(page.locator("article.message .waiting")).toBeVisible();
  // Meanwhile, in another tab of the same browser (the same cookies), the
  // first user signs out and the other signs in.
  expect((await context.request.delete("/users/sign_out")).status()).toBeLessThan(300);
  const signIn = await context.request.post("/users/sign_in", {
    data: { user: { email: other.username, password: "secret123" } },
  });
  expect(signIn.status()).toBe(200);

  // Back online: the page is the other user's, loaded afresh.
  await context.setOffline(false);
  await expect(page.locator(".whoami")).toHaveText(other.name, { timeout: 30_000 });
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await page.waitForTimeout(2_000);
  const history = await (await otherContext.request.get(`/conversations/${room}/messages`)).json();
  expect(history.messages).toHaveLength(0);
  await expect(page.locator("article.message")).toHaveCount(0);
  await closeAll(context, otherContext);
});

test("a room archived, and another left, while the tab was offline say so when the link returns", async ({ browser }) => {
  const owner = await browser.newContext();
  await registerUser(owner, "keeper");
  const context = await browser.newContext();
  const member = await registerUser(context, "napper");
  const stamp = Date.now();
  const archivedRoom = await createRoom(owner.request, { kind: "group", participant_ids: [member.id], title: `Archived ${stamp}` });
  const leftRoom = await createRoom(owner.request, { kind: "group", participant_ids: [member.id], title: `Removed ${stamp}` });
  const [archivedPage, leftPage] = [await context.newPage(), await context.newPage()];
  await openLive(archivedPage, archivedRoom);
  await openLive(leftPage, leftRoom);

  await context.setOffline(true);
  for (const page of [archivedPage, leftPage]) {
    await expect(page.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
  }
  expect((await owner.request.delete(`/conversations/${archivedRoom}`)).status()).toBe(204);
  expect((await owner.request.delete(`/conversations/${leftRoom}/participants/${member.id}`)).status()).toBe(204);
  await context.setOffline(false);

  await expect(archivedPage.locator(".archived-note")).toHaveText("This room is archived: it can be read, not written to.", {
    timeout: 30_000,
  });
  await expect(archivedPage.getByLabel("Message", { exact: true })).toHaveCount(0);
  await expect(leftPage.locator(".archived-note")).toContainText("You are no longer a member of this room", { timeout: 30_000 });
  await expect(leftPage.getByLabel("Message", { exact: true })).toHaveCount(0);
  await closeAll(owner, context);
});

/** The keys the unconfirmed sends are kept under in the page's localStorage. */
const keptSends = (page: Page) =>
  page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("hearth.outbox.")));

test("messages queued offline are kept over a reload: shown again, and sent once each, in order, when the link returns", async ({ browser }) => {
  const { context, page, first, second, user } = await offlineInFirstRoom(browser);
  const composer = page.getByLabel("Message", { exact: true });
  for (const text of ["kept 1", "kept 2", "kept 3"]) {
    await composer.fill(text);
    await composer.press("Enter");
    await expect(page.locator("article.message.failed", { hasText: text })).toBeVisible();
  }
  // What another room has kept cannot be read (changed by hand, say): no harm done.
  await page.evaluate((key) => localStorage.setItem(key, "[{not json"), `hearth.outbox.${user.id}.${second}`);

  // The page goes before the link returns.
  await page.goto("about:blank");
  await context.setOffline(false);
  const bodies = async () =>
    ((await (await context.request.get(`/conversations/${first}/messages`)).json()).messages as { body: string }[]).map((m) => m.body);
  expect(await bodies()).toEqual([]);

  // Loaded again, the room shows them, and sends them.
  await page.goto(`/rooms/${first}`);
  await expect(page.locator("article.message .body")).toHaveText(["kept 1", "kept 2", "kept 3"]);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator("article.message.failed, article.message.pending")).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator("article.message .body")).toHaveText(["kept 1", "kept 2", "kept 3"]);
  const numbers = await page.locator("article.message").evaluateAll((els) => els.map((el) => el.getAttribute("data-number")));
  expect(numbers).toEqual(["1", "2", "3"]);
  await expect.poll(bodies).toEqual(["kept 1", "kept 2", "kept 3"]);
  // Confirmed, they are kept no longer (nor is what could not be read).
  await expect.poll(() => keptSends(page)).toEqual([]);
  // Another reload sends nothing again.
  await page.reload();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator("article.message .body")).toHaveText(["kept 1", "kept 2", "kept 3"]);
  await page.waitForTimeout(1_000);
  expect(await bodies()).toEqual(["kept 1", "kept 2", "kept 3"]);
  await context.close();
});

test("a send the server saved but whose answer was lost is kept over a reload, sent again, and still saved once", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "twice");
  const room = await createRoom(context.request, { kind: "open", title: `Once ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  // The send reaches the server; its answer never reaches the page.
  let answerLost!: () => void;
  const lost = new Promise<void>((done) => (answerLost = done));
  await page.route(/\/fn\/send_message/, async (route) => {
    await route.fetch();
    await route.abort();
    answerLost();
  });
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("only once");
  await composer.press("Enter");
  await expect.poll(() => keptSends(page)).toHaveLength(1);
  // Not reloaded before the answer is dropped: a reload meanwhile ended the
  // request first, and the route could no longer drop it.
  await lost;
  await page.unroute(/\/fn\/send_message/);

  await page.reload();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect.poll(() => keptSends(page), { timeout: 30_000 }).toEqual([]);
  await expect(page.locator("article.message .body")).toHaveText(["only once"]);
  await expect(page.locator("article.message.failed, article.message.pending")).toHaveCount(0);
  const history = await (await context.request.get(`/conversations/${room}/messages`)).json();
  expect((history.messages as { body: string }[]).map((m) => m.body)).toEqual(["only once"]);
  await context.close();
});

test("two tabs of one account each keep their own unsent messages: both are sent after the tabs are gone", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "twotabs");
  const room = await createRoom(context.request, { kind: "open", title: `Two tabs ${Date.now()}` });
  const [tabA, tabB] = [await context.newPage(), await context.newPage()];
  await openLive(tabA, room);
  await openLive(tabB, room);
  await context.setOffline(true);
  for (const [tab, text] of [
    [tabA, "from tab A"],
    [tabB, "from tab B"],
    [tabA, "from tab A again"],
  ] as const) {
    await expect(tab.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
    const composer = tab.getByLabel("Message", { exact: true });
    await composer.fill(text);
    await composer.press("Enter");
    await expect(tab.locator("article.message.failed", { hasText: text })).toBeVisible();
  }
  // Both tabs go before the link returns; what they kept is all there is.
  await tabA.close();
  await tabB.close();
  await context.setOffline(false);
  const bodies = async () =>
    ((await (await context.request.get(`/conversations/${room}/messages`)).json()).messages as { body: string }[]).map((m) => m.body);
  expect(await bodies()).toEqual([]);

  const page = await context.newPage();
  await page.goto(`/rooms/${room}`);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect.poll(bodies, { timeout: 30_000 }).toEqual(["from tab A", "from tab B", "from tab A again"]);
  await expect(page.locator("article.message.failed, article.message.pending")).toHaveCount(0, { timeout: 30_000 });
  await expect.poll(() => keptSends(page)).toEqual([]);
  await context.close();
});

/** Alice, and Bob whose browser reaches the server through `proxy`, in a direct room; Bob's page is live in it. */
async function bobBehind(browser: Browser, proxy: Proxy) {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext({ baseURL: proxy.url });
  await registerUser(aliceContext, "alice");
  const bob = await registerUser(bobContext, "bob");
  const room = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
  const bobPage = await bobContext.newPage();
  await openLive(bobPage, room);
  return { aliceContext, bobContext, bobPage, room };
}

/** Runs `test` with a proxy in front of the server under test, closed after, pass or fail. */
async function behindProxy(test: (proxy: Proxy) => Promise<void>) {
  const proxy = await startProxy(process.env.HEARTH_E2E_URL ?? "http://127.0.0.1:3100");
  try {
    await test(proxy);
  } finally {
    await proxy.close();
  }
}

test("a socket that goes silent while looking open is noticed, dropped and resumed: nothing sent meanwhile is missed", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  await behindProxy(async (proxy) => {
    const { aliceContext, bobContext, bobPage, room } = await bobBehind(browser, proxy);
    // The network switched under the tab: the socket looks open and carries nothing.
    proxy.silenceOpen();
    await postMessage(aliceContext.request, room, "said while the link was dead");
    // Nothing is heard from it for a while: it is asked, gets no answer, and is replaced.
    await expect(bobPage.locator("article.message .body")).toHaveText(["said while the link was dead"], { timeout: 45_000 });

    // Again; this time the tab is shown again (a laptop woken): it asks at once.
    await expect(bobPage.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
    proxy.silenceOpen();
    await postMessage(aliceContext.request, room, "said before the laptop woke");
    const asked = Date.now();
    await bobPage.evaluate(() => document.dispatchEvent(new Event("visibilitychange", { bubbles: true })));
    await expect(bobPage.locator("article.message .body")).toHaveText(
      ["said while the link was dead", "said before the laptop woke"],
      { timeout: 20_000 },
    );
    expect(Date.now() - asked).toBeLessThan(15_000);
    await closeAll(aliceContext, bobContext);
  });
});

test("a send whose request never answers is sent again on a fresh one, once, and the ones after it follow in order", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  await behindProxy(async (proxy) => {
    const { aliceContext, bobContext, bobPage, room } = await bobBehind(browser, proxy);
    proxy.silenceNextRequestTo("/fn/send_message");
    const composer = bobPage.getByLabel("Message", { exact: true });
    for (const text of ["first", "second", "third"]) {
      await composer.fill(text);
      await composer.press("Enter");
    }
    await expect(bobPage.locator("article.message.pending")).toHaveCount(3);
    // The stuck request is given up on after 15 s, and the three go.
    await expect(bobPage.locator("article.message:not(.pending):not(.failed) .body")).toHaveText(["first", "second", "third"], {
      timeout: 40_000,
    });
    const history = await aliceContext.request.get(`/conversations/${room}/messages`);
    const bodies = ((await history.json()).messages as { body: string }[]).map((m) => m.body);
    expect(bodies).toEqual(["first", "second", "third"]);
    await closeAll(aliceContext, bobContext);
  });
});

test("back after more changes than a resume replays, the room shows its newest at the bottom and reading it clears the count", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const { room, aliceContext, bobContext, bobPage } = await pair(browser);
  await postMessage(aliceContext.request, room, "before you left");
  await openLive(bobPage, room);
  await expect(bobPage.locator("article.message .body")).toHaveText(["before you left"]);
  await expect.poll(async () => (await (await bobContext.request.get("/conversations")).json())[0].unread_count).toBe(0);
  await bobContext.setOffline(true);
  await expect(bobPage.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
  // 2,001 changes: more than a resume replays (docs/protocol.md), so the page is told to reload.
  for (let start = 1; start <= 2_001; start += 25) {
    const batch = [];
    for (let n = start; n < start + 25 && n <= 2_001; n++) batch.push(postMessage(aliceContext.request, room, `missed ${n}`));
    await Promise.all(batch);
  }
  await bobContext.setOffline(false);
  const last = bobPage.locator("article.message").last();
  await expect(last).toHaveAttribute("data-number", "2002", { timeout: 30_000 });
  // At the bottom, as a live room stays.
  await expect
    .poll(() => bobPage.locator(".messages").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight))
    .toBeLessThan(5);
  // Read there, so the count goes; and a message arriving live then is read too.
  await expect.poll(async () => (await (await bobContext.request.get("/conversations")).json())[0].unread_count, { timeout: 20_000 }).toBe(0);
  await postMessage(aliceContext.request, room, "and now?");
  await expect(last.locator(".body")).toHaveText("and now?");
  await expect.poll(async () => (await (await bobContext.request.get("/conversations")).json())[0].unread_count, { timeout: 20_000 }).toBe(0);
  await closeAll(aliceContext, bobContext);
});
