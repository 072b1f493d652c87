import { expect, test } from "./fixtures";
import { closeAll, openLive, pair, postMessage, trackPageErrors, unread } from "./helpers";

test("Mark unread counts a message and those after it again, keeps them unread while on screen, and reopens there", async ({
  browser,
}) => {
  const { room, aliceContext, bobContext, bobPage } = await pair(browser);
  const errors = trackPageErrors(bobPage);
  for (const text of ["first", "second, to come back to", "third"]) {
    await postMessage(aliceContext.request, room, text);
  }
  await openLive(bobPage, room);
  await expect.poll(() => unread(bobContext.request, room)).toBe(0);

  // Only others' messages offer it.
  const mine = await postMessage(bobContext.request, room, "mine");
  const myRow = bobPage.locator(`article.message[data-number="${mine.number}"]`);
  await myRow.hover();
  await expect(myRow.getByRole("button", { name: "Reply to this message" })).toBeVisible();
  await expect(myRow.getByRole("button", { name: "Mark unread" })).toHaveCount(0);

  const second = bobPage.locator("article.message", { hasText: "second, to come back to" });
  await second.hover();
  await second.getByRole("button", { name: "Mark unread" }).click();
  await expect(second.locator(".marked-unread")).toHaveText("Unread from here");
  const link = bobPage.locator(`.room-link[data-room-id="${room}"]`);
  await expect(link.getByRole("img", { name: "2 unread messages" })).toHaveText("2");
  // On screen, and the tab in front: still unread.
  await bobPage.waitForTimeout(1500);
  expect(await unread(bobContext.request, room)).toBe(2);
  // A message arriving meanwhile is unread too.
  await postMessage(aliceContext.request, room, "fourth");
  await expect(bobPage.locator("article.message", { hasText: "fourth" })).toBeVisible();
  await expect(link.getByRole("img", { name: "3 unread messages" })).toHaveText("3");

  // Opened again, the room starts at it under the divider, and reading
  // marks as before.
  await bobPage.goto("/");
  await openLive(bobPage, room);
  const divider = bobPage.locator(".unread-divider");
  await expect(divider).toBeVisible();
  const firstAfter = bobPage.locator(".unread-divider + article.message");
  await expect(firstAfter).toContainText("second, to come back to");
  await expect.poll(() => unread(bobContext.request, room)).toBe(0);
  expect(errors).toEqual([]);
  await closeAll(aliceContext, bobContext);
});
