import { expect, test } from "./fixtures";
import { createRoom, postMessage, registerUser } from "./helpers";

test("the tab title names the room and counts unread messages in every room", async ({ browser }) => {
  const reader = await browser.newContext();
  const readerUser = await registerUser(reader, "reader");
  const writer = await browser.newContext();
  await registerUser(writer, "writer");

  const title = `Launch crew ${Date.now()}`;
  const room = await createRoom(reader.request, { kind: "open", title });
  const direct = await createRoom(writer.request, { participant_ids: [readerUser.id] });
  await postMessage(writer.request, direct, "one");

  const page = await reader.newPage();
  await page.goto(`/rooms/${room}`);
  await expect(page).toHaveTitle(`(1) ${title} · Hearth`, { timeout: 30_000 });

  // A message arriving elsewhere counts at once.
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await postMessage(writer.request, direct, "two");
  await expect(page).toHaveTitle(`(2) ${title} · Hearth`);

  // A room muted (notify me of nothing) is left out of the count.
  const muted = await createRoom(writer.request, { kind: "open", title: `Chatter ${Date.now()}` });
  expect((await reader.request.post(`/conversations/${muted}/join`)).status()).toBe(200);
  const level = await reader.request.put(`/conversations/${muted}/notifications`, { data: { level: "nothing" } });
  expect(level.status()).toBe(200);
  for (const n of [1, 2, 3]) await postMessage(writer.request, muted, `noise ${n}`);
  await postMessage(writer.request, direct, "three");
  await expect(page).toHaveTitle(`(3) ${title} · Hearth`);
  await expect(page.locator(`.sidebar a[href="/rooms/${muted}"]`)).toContainText("noise 3");
  await expect(page).toHaveTitle(`(3) ${title} · Hearth`);

  // Reading them clears the count; the title names the room open now.
  await page.locator(`.sidebar a[href="/rooms/${direct}"]`).click();
  await expect(page).toHaveTitle(/^[^(]*Writer .* · Hearth$/);

  // Every page counts, not only a room's.
  await postMessage(writer.request, direct, "four");
  await page.goto("/people");
  await expect(page).toHaveTitle("(1) People · Hearth");
  await page.goto("/browse");
  await expect(page).toHaveTitle("(1) Open rooms · Hearth");
  await reader.close();
  await writer.close();
});

test("while the tab is in the background, messages in the room it shows raise the count in its title", async ({ browser }) => {
  const reader = await browser.newContext();
  const readerUser = await registerUser(reader, "watcher");
  const writer = await browser.newContext();
  await registerUser(writer, "talker");
  const direct = await createRoom(writer.request, { participant_ids: [readerUser.id] });
  await postMessage(writer.request, direct, "hello");
  const page = await reader.newPage();
  await page.goto(`/rooms/${direct}`);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  // Open and in front: read, so no count.
  await expect(page).toHaveTitle(/^[^(]*Talker .* · Hearth$/);

  // The tab goes to the background (nothing in it is read there).
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await postMessage(writer.request, direct, "are you there?");
  await expect(page.locator("article.message", { hasText: "are you there?" })).toBeVisible();
  await expect(page).toHaveTitle(/^\(1\) .*Talker .* · Hearth$/);
  await postMessage(writer.request, direct, "hello?");
  await expect(page).toHaveTitle(/^\(2\) .*Talker .* · Hearth$/);

  // Shown again (switched back to, with nothing clicked or focused): what
  // it shows is read, here and on the server.
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
    // As a browser fires it: at the document, bubbling to the window.
    document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  });
  await expect(page).toHaveTitle(/^[^(]*Talker .* · Hearth$/);
  await expect
    .poll(async () => {
      const listed = await (await reader.request.get("/conversations")).json();
      return listed.find((c: { id: number }) => c.id === direct)?.unread_count;
    })
    .toBe(0);
  await reader.close();
  await writer.close();
});

test("a room gone from my list does not keep the title of the room shown before it", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "leaver");
  const stamp = Date.now();
  const gone = await createRoom(context.request, { kind: "open", title: `Soon left ${stamp}` });
  const kept = await createRoom(context.request, { kind: "open", title: `Kept ${stamp}` });
  const page = await context.newPage();
  await page.goto(`/rooms/${gone}`);
  await expect(page).toHaveTitle(`Soon left ${stamp} · Hearth`, { timeout: 30_000 });
  await page.locator(`.sidebar a[href="/rooms/${kept}"]`).click();
  await expect(page).toHaveTitle(`Kept ${stamp} · Hearth`);
  // Left in another tab, then Back to it.
  expect((await context.request.delete(`/conversations/${gone}/membership`)).status()).toBe(204);
  await page.goBack();
  await expect(page.getByRole("heading", { name: "Conversation not found" })).toBeVisible();
  await expect(page).toHaveTitle("Conversation · Hearth");
  await context.close();
});
