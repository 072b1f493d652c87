import { expect, test } from "./fixtures";
import { createRoom, openLive, registerUser, send } from "./helpers";

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
