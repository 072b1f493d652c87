import { expect, test } from "./fixtures";
import { closeAll, openLive, pair, postMessage, unread } from "./helpers";

// Issue 15, "What to build" 3: unread that you can trust with your eyes. A
// room opens at the first unread message under a "New messages" divider,
// with a jump to the newest; messages arriving while you are scrolled up
// show "↓ N new messages" and stay unread until they have been on screen.

test("a room with unread messages opens at the first of them under a New messages divider, with a jump to the newest", async ({
  browser,
}) => {
  const { alice, room, aliceContext, bobContext, bobPage } = await pair(browser);
  // Bob reads ten as they arrive (at the newest, he follows them), and leaves.
  await openLive(bobPage, room);
  for (let n = 1; n <= 10; n++) await postMessage(aliceContext.request, room, `early ${n}`);
  await expect(bobPage.locator("article.message", { hasText: "early 10" })).toBeInViewport();
  await expect.poll(() => unread(bobContext.request, room)).toBe(0);
  await bobPage.goto("/");
  for (let n = 11; n <= 80; n++) await postMessage(aliceContext.request, room, `later ${n}`);
  expect(await unread(bobContext.request, room)).toBe(70);

  await openLive(bobPage, room);
  const divider = bobPage.locator(".unread-divider");
  await expect(divider).toHaveCount(1);
  await expect(divider).toHaveText("New messages");
  await expect(divider).toBeInViewport();
  // The divider is right above message 11, the first unread.
  const next = await divider.evaluate((el) => el.nextElementSibling?.getAttribute("data-number"));
  expect(next).toBe("11");
  // What is new says who wrote it, though it continues alice's run of
  // messages from before; the one after it joins its group.
  const first = bobPage.locator('article.message[data-number="11"]');
  await expect(first).not.toHaveClass(/continued/);
  await expect(first.locator(".author")).toHaveText(alice.name);
  await expect(bobPage.locator('article.message[data-number="12"]')).toHaveClass(/continued/);
  await expect(bobPage.locator('article.message[data-number="10"]')).toBeAttached();
  // The newest is not loaded yet, and is not marked read.
  await expect(bobPage.locator('article.message[data-number="80"]')).toHaveCount(0);
  await bobPage.waitForTimeout(800);
  expect(await unread(bobContext.request, room)).toBeGreaterThan(0);

  const jump = bobPage.locator(".jump-latest");
  await expect(jump).toHaveText("↓ Jump to the newest");
  await jump.click();
  await expect(bobPage.locator('article.message[data-number="80"]')).toBeInViewport();
  await expect(jump).toHaveCount(0);
  await expect.poll(() => unread(bobContext.request, room)).toBe(0);
  await closeAll(aliceContext, bobContext);
});

test("messages arriving while scrolled up show as ↓ N new and stay unread until scrolled to", async ({ browser }) => {
  const { room, aliceContext, bobContext, bobPage } = await pair(browser);
  await openLive(bobPage, room);
  for (let n = 1; n <= 40; n++) await postMessage(aliceContext.request, room, `line ${n}`);
  await expect(bobPage.locator("article.message", { hasText: "line 40" })).toBeInViewport();
  await expect.poll(() => unread(bobContext.request, room)).toBe(0);
  await expect(bobPage.locator(".jump-latest")).toHaveCount(0);

  // Bob scrolls up to the start; two messages arrive below.
  const list = bobPage.locator(".messages");
  await list.evaluate((el) => el.scrollTo(0, 0));
  await expect(bobPage.locator(".jump-latest")).toHaveText("↓ Jump to the newest");
  await postMessage(aliceContext.request, room, "while away 1");
  await expect(bobPage.locator(".jump-latest")).toHaveText("↓ 1 new message");
  await postMessage(aliceContext.request, room, "while away 2");
  await expect(bobPage.locator(".jump-latest")).toHaveText("↓ 2 new messages");
  await expect(bobPage.locator("article.message", { hasText: "while away 2" })).not.toBeInViewport();
  // The room list shows them meanwhile, as it would another room's.
  const link = bobPage.locator(`.room-link[data-room-id="${room}"]`);
  await expect(link.locator(".room-preview")).toHaveText("while away 2");
  await expect(link.getByRole("img", { name: "2 unread messages" })).toHaveText("2");
  // Not on screen, so not read.
  await bobPage.waitForTimeout(1000);
  expect(await unread(bobContext.request, room)).toBe(2);

  await bobPage.locator(".jump-latest").click();
  await expect(bobPage.locator("article.message", { hasText: "while away 2" })).toBeInViewport();
  await expect(bobPage.locator(".jump-latest")).toHaveCount(0);
  await expect.poll(() => unread(bobContext.request, room)).toBe(0);
  await closeAll(aliceContext, bobContext);
});

test("a jump to a search hit below unread messages marks none of them read, an unseen mention included, until they are loaded", async ({
  browser,
}) => {
  const { bob, room, aliceContext, bobContext, bobPage } = await pair(browser);
  for (let n = 1; n <= 60; n++) {
    const body = n === 5 ? `heads up @${bob.username}` : n === 55 ? "the zebracorn is here" : `filler ${n}`;
    await postMessage(aliceContext.request, room, body);
  }
  const counts = async () => {
    const rooms: { id: number; unread_count: number; unread_mentions: number }[] = await (
      await bobContext.request.get("/conversations")
    ).json();
    const entry = rooms.find((r) => r.id === room)!;
    return [entry.unread_count, entry.unread_mentions];
  };
  expect(await counts()).toEqual([60, 1]);

  // The search hit's link: the page around message 55, which reaches the
  // newest (60), all of it on screen, while 1..45 were never loaded.
  await bobPage.goto(`/rooms/${room}?around=55`);
  await expect(bobPage.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(bobPage.locator('article.message[data-number="55"]')).toBeInViewport();
  await expect(bobPage.locator('article.message[data-number="5"]')).toHaveCount(0);
  await bobPage.waitForTimeout(1200);
  expect(await counts()).toEqual([60, 1]);

  // Scrolled back to the mention and down again: now it has been shown.
  const list = bobPage.locator(".messages");
  const mention = bobPage.locator('article.message[data-number="5"]');
  await expect(async () => {
    await list.evaluate((el) => el.scrollTo(0, 0));
    await expect(mention).toBeAttached({ timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect.poll(counts).toEqual([0, 0]);
  await closeAll(aliceContext, bobContext);
});

test("Mark all as read in the room list reads every room at once, and goes away once nothing is unread", async ({
  browser,
}) => {
  const { alice, bob, room, aliceContext, bobContext, bobPage } = await pair(browser);
  const made = await aliceContext.request.post("/conversations", {
    data: { participant_ids: [bob.id], title: "Planning", kind: "group" },
  });
  expect(made.status()).toBe(201);
  const group = await made.json();
  for (let n = 1; n <= 3; n++) await postMessage(aliceContext.request, room, `direct ${n}`);
  await postMessage(aliceContext.request, group.id, "in the group");
  await bobPage.goto("/");
  const badges = bobPage.locator(".sidebar .badges .unread");
  await expect(badges).toHaveCount(2);
  const markAll = bobPage.getByRole("button", { name: "Mark all as read" });
  // (A press before the page has hydrated does nothing: pressed until it does.)
  await expect(async () => {
    if ((await markAll.count()) > 0) await markAll.click({ timeout: 2_000 });
    await expect(badges).toHaveCount(0, { timeout: 2_000 });
  }).toPass({ timeout: 45_000 });
  await expect(markAll).toHaveCount(0);
  expect(await unread(bobContext.request, room)).toBe(0);
  expect(await unread(bobContext.request, group.id)).toBe(0);
  // Something new brings it back.
  await postMessage(aliceContext.request, room, `from ${alice.name}`);
  await expect(badges).toHaveCount(1);
  await expect(markAll).toHaveCount(1);
  await closeAll(aliceContext, bobContext);
});
