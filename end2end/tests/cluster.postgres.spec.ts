import { expect, test } from "./fixtures";
import { createRoom, openLive, registerUser, send, whenHydrated } from "./helpers";

// Two instances, one chat (issue 14): `make e2e` starts two `hearth serve`
// on one Postgres database with one nats-server between them
// (scripts/e2e-postgres.sh). Alice's browser talks only to instance A (the
// base URL), bob's only to instance B.
const instanceB = process.env.HEARTH_E2E_URL_B ?? "http://127.0.0.1:3102";

test("alice on instance A and bob on instance B chat live both ways, with typing and unread badges", async ({
  browser,
}) => {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext({ baseURL: instanceB });
  const alice = await registerUser(aliceContext, "alice");
  const bob = await registerUser(bobContext, "bob");
  const room = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
  const elsewhere = await createRoom(aliceContext.request, { kind: "open", title: `Elsewhere ${Date.now()}` });
  const alicePage = await aliceContext.newPage();
  const bobPage = await bobContext.newPage();
  // Two servers, not one under two names.
  const a = await (await aliceContext.request.get("/healthz")).json();
  const b = await (await bobContext.request.get("/healthz")).json();
  expect(a.bus.status).toBe("connected");
  expect(b.bus.status).toBe("connected");

  await openLive(bobPage, room);
  await openLive(alicePage, room);
  expect(new URL(bobPage.url()).origin).toBe(new URL(instanceB).origin);
  expect(new URL(alicePage.url()).origin).not.toBe(new URL(instanceB).origin);

  // Typing crosses instances (first: the composer announces typing at most
  // every 2 s, and bob's sends below would use up that turn).
  await bobPage.getByLabel("Message", { exact: true }).pressSequentially("Working on it", { delay: 30 });
  await expect(alicePage.locator(".typing")).toHaveText(`${bob.name} is typing…`);

  // Live both ways.
  await send(alicePage, "Hi Bob, from instance A");
  await expect(bobPage.locator("article.message .body")).toHaveText(["Hi Bob, from instance A"]);
  await send(bobPage, "Hi Alice, from instance B");
  await expect(alicePage.locator("article.message .body")).toHaveText([
    "Hi Bob, from instance A",
    "Hi Alice, from instance B",
  ]);
  // "Seen" crosses instances too: alice (on A) has read bob's message before
  // she looks elsewhere, so the badge below counts only what comes next.
  await expect(bobPage.locator(".seen")).toBeVisible();

  // Unread badges: alice looks at another room while bob writes on B.
  await alicePage.goto(`/rooms/${elsewhere}`);
  await whenHydrated(
    async () => {},
    () => expect(alicePage.locator(".offline-banner")).toHaveCount(0, { timeout: 1000 }),
  );
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  const badge = alicePage.locator(`.room-link[data-room-id="${room}"] .unread`);
  await send(bobPage, "one");
  await send(bobPage, "two");
  await expect(badge).toHaveText("2");
  await alicePage.locator(`.room-link[data-room-id="${room}"]`).click();
  await expect(alicePage.locator("article.message .body")).toHaveText([
    "Hi Bob, from instance A",
    "Hi Alice, from instance B",
    "one",
    "two",
  ]);
  await expect(badge).toHaveCount(0);

  await aliceContext.close();
  await bobContext.close();
});
