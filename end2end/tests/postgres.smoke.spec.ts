import { expect, test } from "./fixtures";
import { createRoom, openLive, send, signIn } from "./helpers";

// The smoke test of a server on Postgres (`make e2e` runs it, and only it,
// against the release binary on a throwaway Postgres database with the demo
// accounts; see scripts/e2e-postgres.sh). The other specs run on SQLite.

test("on Postgres, alice and bob sign in, open their room and chat live", async ({ browser }) => {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const alicePage = await aliceContext.newPage();
  const bobPage = await bobContext.newPage();

  for (const [page, login, name] of [
    [alicePage, "alice@example.com", "Alice Liddell"],
    [bobPage, "bob", "Bob Builder"],
  ] as const) {
    await signIn(page, login, "secret123");
    await expect(page.locator(".me-name")).toHaveText(name);
  }

  // Their direct room is the demo's "Seed Chat": asking for it again finds it.
  const me = await bobContext.request.get("/users/me", { headers: { Accept: "application/json" } });
  expect(me.status()).toBe(200);
  const bobId = (await me.json()).id;
  const room = await createRoom(aliceContext.request, { participant_ids: [bobId] });

  await openLive(bobPage, room);
  await openLive(alicePage, room);
  await expect(bobPage.locator("article.message .body").first()).toHaveText("Hi Bob, this is Alice!");

  const hello = `Hello Bob, from Postgres ${Date.now()}`;
  await send(alicePage, hello);
  await expect(bobPage.locator("article.message .body", { hasText: hello })).toBeVisible();

  const reply = `Hi Alice, live on Postgres ${Date.now()}`;
  await send(bobPage, reply);
  await expect(alicePage.locator("article.message .body", { hasText: reply })).toBeVisible();

  // Numbered in order, as the other saw them.
  const numbers = (page: typeof alicePage) =>
    page.locator("article.message").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-number"))));
  const seen = await numbers(alicePage);
  expect(seen).toEqual(seen.map((_, i) => i + 1));
  expect(await numbers(bobPage)).toEqual(seen);

  await aliceContext.close();
  await bobContext.close();
});
