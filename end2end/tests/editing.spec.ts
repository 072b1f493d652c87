import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, send } from "./helpers";

test("Edit is offered only within the edit window", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "editor");
  const room = await createRoom(context.request, { kind: "open", title: `Edits ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  await send(page, "fresh words");
  const message = page.locator("article.message", { hasText: "fresh words" });
  await message.hover();
  await expect(message.getByRole("button", { name: "Edit message" })).toBeVisible();

  // The server's window is 15 minutes; the browser's clock moves past it.
  await page.clock.setFixedTime(Date.now() + 16 * 60 * 1000);

  await message.hover();
  await expect(message.getByRole("button", { name: "Edit message" })).toHaveCount(0, { timeout: 20_000 });
  await expect(message.getByRole("button", { name: "Delete message" })).toBeVisible();
  await context.close();
});

test("a refused edit says why and keeps the editor open", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "refused");
  const room = await createRoom(context.request, { kind: "open", title: `Refusals ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  await send(page, "keep me");
  const number = await page.locator("article.message", { hasText: "keep me" }).getAttribute("data-number");
  const message = page.locator(`article.message[data-number="${number}"]`);
  await message.hover();
  await message.getByRole("button", { name: "Edit message" }).click();

  await message.getByLabel("Edit message").fill("   ");
  await message.getByRole("button", { name: "Save" }).click();

  await expect(message.getByRole("alert")).not.toBeEmpty();
  await expect(message.getByLabel("Edit message")).toBeVisible();
  await context.close();
});

test("what is typed in an open editor survives someone reacting or replying meanwhile", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  const posted = await postMessage(aliceContext.request, room, "original text");
  await openLive(alicePage, room);
  const message = alicePage.locator(`article.message[data-number="${posted.number}"]`);
  await message.hover();
  await message.getByRole("button", { name: "Edit message" }).click();
  const editor = message.getByLabel("Edit message");
  await editor.fill("my careful rewrite");

  // Bob reacts, then replies: each redraws alice's row.
  const reactions = `/conversations/${room}/messages/${posted.number}/reactions`;
  expect((await bobContext.request.post(reactions, { data: { emoji: "👍" } })).status()).toBe(200);
  await expect(message.locator("button.reaction")).toHaveText("👍 1");
  const reply = { body: "an answer", reply_to: posted.number };
  expect((await bobContext.request.post(`/conversations/${room}/messages`, { data: reply })).status()).toBe(201);
  await expect(message.locator(".reply-count")).toBeVisible();

  await expect(editor).toHaveValue("my careful rewrite");
  await expect(editor).toBeFocused();
  await editor.press("Enter");
  await expect(message.locator(".body")).toHaveText("my careful rewrite");
  const saved = await (await aliceContext.request.get(`/conversations/${room}/messages?around=${posted.number}&limit=1`)).json();
  expect(saved.messages.find((m: { number: number }) => m.number === posted.number).body).toBe("my careful rewrite");
  await closeAll(aliceContext, bobContext);
});

test("a reply whose message is deleted meanwhile says so and goes as a new message", async ({ browser }) => {
  const { room, aliceContext, bobContext, bobPage } = await pair(browser);
  const posted = await postMessage(aliceContext.request, room, "soon gone");
  await openLive(bobPage, room);
  const message = bobPage.locator(`article.message[data-number="${posted.number}"]`);
  await message.hover();
  await message.getByRole("button", { name: "Reply to this message" }).click();
  await expect(bobPage.locator(".replying")).toContainText("soon gone");

  expect((await aliceContext.request.delete(`/conversations/${room}/messages/${posted.number}`)).status()).toBe(204);

  await expect(message.locator(".body")).toHaveText("This message was deleted.");
  await expect(bobPage.locator(".replying")).toHaveText(/The message you were replying to was deleted/);
  await expect(bobPage.locator(".replying")).not.toContainText("soon gone");
  await send(bobPage, "still worth saying");
  await expect(bobPage.locator("article.message.failed")).toHaveCount(0);
  const page = await (await bobContext.request.get(`/conversations/${room}/messages`)).json();
  const sent = page.messages.find((m: { body: string }) => m.body === "still worth saying");
  expect(sent.reply_to ?? null).toBeNull();
  await closeAll(aliceContext, bobContext);
});

test("a deleted message does not say it was edited", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "tidy");
  const room = await createRoom(context.request, { kind: "open", title: `Tidy ${Date.now()}` });
  const posted = await postMessage(context.request, room, "first words");
  const path = `/conversations/${room}/messages/${posted.number}`;
  expect((await context.request.patch(path, { data: { body: "second words" } })).status()).toBe(200);
  const page = await context.newPage();
  await openLive(page, room);
  const message = page.locator(`article.message[data-number="${posted.number}"]`);
  await expect(message.locator(".edited")).toHaveText("(edited)");

  expect((await context.request.delete(path)).status()).toBe(204);

  await expect(message.locator(".body")).toHaveText("This message was deleted.");
  await expect(message.locator(".edited")).toHaveCount(0);
  await page.reload();
  await expect(page.locator(`article.message[data-number="${posted.number}"] .body`)).toHaveText("This message was deleted.");
  await expect(page.locator(`article.message[data-number="${posted.number}"] .edited`)).toHaveCount(0);
  await context.close();
});

test("(edited) opens what a message said before, the oldest first, for anyone in the room", async ({ browser }) => {
  const { aliceContext, bobContext, bobPage, room } = await pair(browser);
  const posted = await postMessage(aliceContext.request, room, "lunch at **noon**");
  await openLive(bobPage, room);
  const message = bobPage.locator(`article.message[data-number="${posted.number}"]`);
  await expect(message.locator(".body")).toHaveText("lunch at noon");
  const path = `/conversations/${room}/messages/${posted.number}`;

  expect((await aliceContext.request.patch(path, { data: { body: "lunch at one" } })).status()).toBe(200);
  expect((await aliceContext.request.patch(path, { data: { body: "lunch at half past one" } })).status()).toBe(200);

  // Live: the text and the mark; the mark opens the earlier texts.
  await expect(message.locator(".body")).toHaveText("lunch at half past one");
  const mark = message.locator(".edited");
  await expect(mark).toHaveText("(edited)");
  await mark.click();
  const versions = message.locator(".edits-list li");
  await expect(versions).toHaveCount(2);
  await expect(versions.locator(".version-body")).toHaveText(["lunch at noon", "lunch at one"]);
  await expect(versions.nth(0).locator(".version-body strong")).toHaveText("noon");
  await expect(versions.nth(0).locator("time")).toHaveAttribute("datetime", posted.created_at);
  // Esc closes it; opened again it reads anew, a later edit included.
  await bobPage.keyboard.press("Escape");
  await expect(message.locator(".edits-popover")).toBeHidden();
  expect((await aliceContext.request.patch(path, { data: { body: "lunch at two" } })).status()).toBe(200);
  await expect(message.locator(".body")).toHaveText("lunch at two");
  await mark.click();
  await expect(versions.locator(".version-body")).toHaveText(["lunch at noon", "lunch at one", "lunch at half past one"]);
  // A press inside it keeps it open; one elsewhere closes it.
  await versions.nth(0).click();
  await expect(message.locator(".edits-popover")).toBeVisible();
  await bobPage.locator(".chat-header h1").click();
  await expect(message.locator(".edits-popover")).toBeHidden();
  await closeAll(aliceContext, bobContext);
});
