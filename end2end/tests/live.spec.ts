import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, pair, registerUser, send, whenHydrated } from "./helpers";

test("alice and bob chat live both ways without reloading", async ({ browser }) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(bobPage, room);
  await openLive(alicePage, room);

  await send(alicePage, "Hi Bob, live!");
  await expect(bobPage.locator("article.message .body")).toHaveText(["Hi Bob, live!"]);
  await send(bobPage, "Hi Alice, live too!");
  await expect(alicePage.locator("article.message .body")).toHaveText(["Hi Bob, live!", "Hi Alice, live too!"]);
  await expect(alicePage.locator("article.message")).toHaveCount(2);
  await closeAll(aliceContext, bobContext);
});

test("presence shows who is online", async ({ browser }) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(alicePage, room);
  const bobDot = alicePage.locator(`.member[data-user-id="${bob.id}"]`);
  await expect(bobDot).not.toHaveClass(/online/);

  await openLive(bobPage, room);

  await expect(bobDot).toHaveClass(/online/);
  await expect(bobPage.locator(`.member[data-user-id="${alice.id}"]`)).toHaveClass(/online/);
  await closeAll(aliceContext, bobContext);
});

test("someone online who joins a room shows online to those in it, and no one does while my link is down", async ({
  browser,
}) => {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext();
  await registerUser(aliceContext, "alice");
  const bob = await registerUser(bobContext, "bob");
  const title = `Lobby ${Date.now()}`;
  const lobby = await createRoom(aliceContext.request, { kind: "open", title });
  const bobsOwn = await createRoom(bobContext.request, { kind: "open", title: `Den ${Date.now()}` });
  const alicePage = await aliceContext.newPage();
  const bobPage = await bobContext.newPage();
  await openLive(alicePage, lobby);
  // Bob's link is up before he joins: no socket of his opens afterwards.
  await openLive(bobPage, bobsOwn);
  await bobPage.getByRole("link", { name: "Open rooms" }).first().click();
  await bobPage.getByRole("button", { name: `Join ${title}` }).click();
  await expect(bobPage.locator(".chat-header h1")).toHaveText(title);

  const bobDot = alicePage.locator(`.member[data-user-id="${bob.id}"]`);
  await expect(bobDot).toHaveClass(/online/);
  await aliceContext.setOffline(true);
  await expect(bobDot).not.toHaveClass(/online/);
  await expect(alicePage.locator(".member.online")).toHaveCount(0);
  await aliceContext.setOffline(false);
  await expect(bobDot).toHaveClass(/online/, { timeout: 20_000 });
  await closeAll(aliceContext, bobContext);
});

test("the typing indicator shows who is typing", async ({ browser }) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(bobPage, room);
  await openLive(alicePage, room);

  await bobPage.getByLabel("Message", { exact: true }).pressSequentially("Working on it", { delay: 30 });

  await expect(alicePage.locator(".typing")).toHaveText(`${bob.name} is typing…`);
  await expect(alicePage.locator(".typing")).toHaveText("", { timeout: 10_000 });
  await closeAll(aliceContext, bobContext);
});

test("the unread badge rises in another room and clears when it is opened", async ({ browser }) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const elsewhere = await createRoom(aliceContext.request, { kind: "open", title: `Elsewhere ${Date.now()}` });
  await openLive(bobPage, room);
  await alicePage.goto(`/rooms/${elsewhere}`);
  const badge = alicePage.locator(`.room-link[data-room-id="${room}"] .unread`);
  await whenHydrated(
    async () => {},
    () => expect(alicePage.locator(".offline-banner")).toHaveCount(0, { timeout: 1000 }),
  );
  await expect(alicePage.locator(`.room-link[data-room-id="${room}"]`)).toBeVisible();
  // Alice's socket is up once her open room is live; the sidebar follows the rest.
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });

  await send(bobPage, "one");
  await send(bobPage, "two");

  await expect(badge).toHaveText("2");
  await alicePage.locator(`.room-link[data-room-id="${room}"]`).click();
  await expect(alicePage.locator("article.message .body")).toHaveText(["one", "two"]);
  await expect(badge).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test("Seen appears under your message once the other person has read it", async ({ browser }) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(alicePage, room);

  await send(alicePage, "Did you see this?");
  await expect(alicePage.locator(".seen")).toHaveCount(0);
  await bobPage.goto(`/rooms/${room}`);
  await expect(bobPage.locator("article.message .body")).toHaveText(["Did you see this?"]);

  const message = alicePage.locator("article.message", { hasText: "Did you see this?" });
  await expect(message.locator(".seen")).toHaveText("Seen");
  await closeAll(aliceContext, bobContext);
});

test("messages sent while offline appear in order after reconnecting, without a reload", async ({ browser }) => {
  const { alice, bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(bobPage, room);
  await openLive(alicePage, room);
  await send(bobPage, "before the outage");
  await expect(alicePage.locator("article.message .body")).toHaveText(["before the outage"]);

  await aliceContext.setOffline(true);
  await expect(alicePage.locator(".offline-banner")).toBeVisible({ timeout: 30_000 });
  for (const text of ["missed 1", "missed 2", "missed 3"]) {
    await send(bobPage, text);
  }
  await aliceContext.setOffline(false);

  await expect(alicePage.locator(".offline-banner")).toBeHidden({ timeout: 30_000 });
  await expect(alicePage.locator("article.message .body")).toHaveText(
    ["before the outage", "missed 1", "missed 2", "missed 3"],
    { timeout: 30_000 },
  );
  const numbers = await alicePage.locator("article.message").evaluateAll((els) => els.map((el) => el.getAttribute("data-number")));
  expect(numbers).toEqual(["1", "2", "3", "4"]);
  await closeAll(aliceContext, bobContext);
});
