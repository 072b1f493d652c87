import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, trackPageErrors } from "./helpers";

test("a message bob pins shows pinned on alice's screen live; Pinned lists it and jumps to it, even far up the history", async ({
  browser,
}) => {
  const { bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const aliceErrors = trackPageErrors(alicePage);
  const bobErrors = trackPageErrors(bobPage);
  const original = await postMessage(aliceContext.request, room, "The **deploy freeze** starts Friday");
  for (let i = 1; i <= 60; i++) {
    await postMessage(aliceContext.request, room, `filler ${i}`);
  }
  // Bob has read them all: his window opens at the newest, as alice's does.
  expect((await bobContext.request.put(`/conversations/${room}/read`)).status()).toBe(200);
  await openLive(alicePage, room);
  await openLive(bobPage, room);

  // Bob pins a message from its actions; alice sees it pinned, live.
  const onBob = bobPage.locator("article.message", { hasText: "filler 60" });
  await onBob.hover();
  await onBob.getByRole("button", { name: "Pin message" }).click();
  await expect(onBob.locator(".pinned-by")).toHaveText(`Pinned by ${bob.name}`);
  await expect(onBob.getByRole("button", { name: "Unpin message" })).toHaveCount(1);
  const onAlice = alicePage.locator("article.message", { hasText: "filler 60" });
  await expect(onAlice).toHaveClass(/pinned/);
  await expect(onAlice.locator(".pinned-by")).toHaveText(`Pinned by ${bob.name}`);

  // One far up the history, pinned through the API: the panel lists both,
  // the most recently pinned first, and the link opens the page around it.
  const pinned = await bobContext.request.put(`/conversations/${room}/messages/${original.number}/pin`);
  expect(pinned.status()).toBe(200);
  await expect(alicePage.locator(`article.message[data-number="${original.number}"]`)).toHaveCount(0);
  await alicePage.locator(".pins-menu summary").click();
  const listed = alicePage.locator(".pins-list li");
  await expect(listed).toHaveCount(2);
  // Read as its message shows, without the Markdown.
  await expect(listed.nth(0)).toContainText("The deploy freeze starts Friday");
  await expect(listed.nth(0)).toContainText(`Pinned by ${bob.name}`);
  await expect(listed.nth(1)).toContainText("filler 60");
  await listed.nth(0).getByRole("link").click();
  await expect(alicePage).toHaveURL(new RegExp(`/rooms/${room}\\?around=${original.number}$`));
  const target = alicePage.locator(`article.message[data-number="${original.number}"]`);
  await expect(target).toBeInViewport();
  await expect(target).toBeFocused();
  await expect(target.locator(".pinned-by")).toHaveText(`Pinned by ${bob.name}`);
  await expect(alicePage.locator(".pins-menu")).not.toHaveAttribute("open", "");

  // Alice unpins it from its actions; bob's open panel follows.
  await openLive(bobPage, room);
  await bobPage.locator(".pins-menu summary").click();
  await expect(bobPage.locator(".pins-list li")).toHaveCount(2);
  await target.hover();
  await target.getByRole("button", { name: "Unpin message" }).click();
  await expect(target).not.toHaveClass(/pinned/);
  await expect(target.locator(".pinned-by")).toHaveCount(0);
  // (Bob's window shows the newest messages: the unpinned one is not among
  // them, so his panel is read afresh on opening.)
  await bobPage.keyboard.press("Escape");
  await expect(bobPage.locator(".pins-menu")).not.toHaveAttribute("open", "");
  await bobPage.locator(".pins-menu summary").click();
  await expect(bobPage.locator(".pins-list li")).toHaveCount(1);
  await expect(bobPage.locator(".pins-list li")).toContainText("filler 60");
  expect(aliceErrors).toEqual([]);
  expect(bobErrors).toEqual([]);
  await closeAll(aliceContext, bobContext);
});

test("an empty Pinned panel says how to pin, and Esc closes it", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  await postMessage(aliceContext.request, room, "Nothing pinned here");
  await openLive(alicePage, room);
  await alicePage.locator(".pins-menu summary").click();
  await expect(alicePage.locator(".pins-popover")).toContainText("Nothing is pinned yet");
  await alicePage.keyboard.press("Escape");
  await expect(alicePage.locator(".pins-menu")).not.toHaveAttribute("open", "");
  await closeAll(aliceContext, bobContext);
});

test("on a phone Pinned is an icon on the name's line, and its panel opens within the screen", async ({ browser }) => {
  for (const viewport of [
    { width: 375, height: 667 },
    { width: 667, height: 375 },
  ]) {
    const context = await browser.newContext({ viewport, hasTouch: true });
    await registerUser(context, "pinphone");
    const room = await createRoom(context.request, { kind: "open", title: `Pins ${Date.now()}` });
    const message = await postMessage(context.request, room, "The door code is on the wiki");
    expect((await context.request.put(`/conversations/${room}/messages/${message.number}/pin`)).status()).toBe(200);
    const page = await context.newPage();
    await openLive(page, room);
    const summary = page.locator(".pins-menu summary");
    const [icon, name] = [(await summary.boundingBox())!, (await page.locator(".chat-header h1").boundingBox())!];
    expect(Math.abs(icon.y + icon.height / 2 - (name.y + name.height / 2)), "on the name's line").toBeLessThan(12);
    expect(Math.min(icon.width, icon.height), "thumb-sized").toBeGreaterThanOrEqual(24);
    await summary.tap();
    const panel = page.locator(".pins-popover");
    await expect(panel).toContainText("The door code is on the wiki");
    const box = (await panel.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, "within the screen's width").toBeLessThanOrEqual(viewport.width);
    expect(box.y + box.height, "its bottom on the screen").toBeLessThanOrEqual(viewport.height);
    await context.close();
  }
});
