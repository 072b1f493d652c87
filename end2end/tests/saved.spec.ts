import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { closeAll, openLive, pair, postMessage, trackPageErrors, whenHydrated } from "./helpers";

// Saved messages ("save for later"): Save in a message's actions keeps it on
// my own list, marked in each of my tabs and in no one else's; "Saved
// messages" lists them, opens each in its room and removes them.

test("Save keeps a message for me alone, in each of my tabs; Saved messages lists it live, opens it in its room and removes it", async ({
  browser,
}) => {
  const { bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const errors = trackPageErrors(alicePage);
  const note = await postMessage(bobContext.request, room, "The **budget** is due on Friday");
  for (let i = 1; i <= 3; i++) await postMessage(bobContext.request, room, `chatter ${i}`);
  const otherTab = await aliceContext.newPage();
  await openLive(alicePage, room);
  await openLive(otherTab, room);
  await openLive(bobPage, room);

  // Alice saves bob's note from its actions: marked here and in her other
  // tab at once, and not on bob's screen.
  const onAlice = alicePage.locator(`article.message[data-number="${note.number}"]`);
  await onAlice.hover();
  await onAlice.getByRole("button", { name: "Save message" }).click();
  await expect(onAlice.locator(".saved-mark")).toHaveText("Saved for later");
  await expect(onAlice.getByRole("button", { name: "Unsave message" })).toHaveCount(1);
  const inOtherTab = otherTab.locator(`article.message[data-number="${note.number}"]`);
  await expect(inOtherTab.locator(".saved-mark")).toHaveText("Saved for later");
  await expect(bobPage.locator(".saved-mark")).toHaveCount(0);
  // A reload keeps it.
  await openLive(alicePage, room);
  await expect(onAlice.locator(".saved-mark")).toHaveText("Saved for later");

  // The sidebar's link opens the list: the room, who sent it, its text.
  await alicePage.getByRole("link", { name: "Saved messages" }).click();
  await expect(alicePage).toHaveURL(/\/saved$/);
  await expect(alicePage.getByRole("heading", { level: 1 })).toHaveText("Saved messages");
  const entries = alicePage.locator(".saved-entry");
  await expect(entries).toHaveCount(1);
  await expect(entries.first().locator(".saved-room")).toHaveText(bob.name);
  await expect(entries.first().locator(".saved-author")).toHaveText(bob.name);
  await expect(entries.first().locator(".body strong")).toHaveText("budget");
  const axe = await new AxeBuilder({ page: alicePage }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);

  // Unsaved in the other tab: gone from the list; saved there again
  // (another message too): back, the most recently saved first.
  await inOtherTab.hover();
  await inOtherTab.getByRole("button", { name: "Unsave message" }).click();
  await expect(entries).toHaveCount(0);
  await expect(alicePage.locator(".no-saved")).toContainText("Nothing saved yet");
  await inOtherTab.hover();
  await inOtherTab.getByRole("button", { name: "Save message" }).click();
  const chatter = otherTab.locator("article.message", { hasText: "chatter 3" });
  await chatter.hover();
  await chatter.getByRole("button", { name: "Save message" }).click();
  await expect(entries).toHaveCount(2);
  await expect(entries.nth(0)).toContainText("chatter 3");
  await expect(entries.nth(1)).toContainText("The budget is due on Friday");

  // Open in conversation: the room around it, the message focused.
  await entries.nth(1).getByRole("link", { name: "Open in conversation" }).click();
  await expect(alicePage).toHaveURL(new RegExp(`/rooms/${room}\\?around=${note.number}$`));
  await expect(onAlice).toBeFocused();
  await expect(onAlice.locator(".saved-mark")).toHaveText("Saved for later");

  // Remove on the list: gone there and unmarked in the room.
  await alicePage.goBack();
  await expect(entries).toHaveCount(2);
  await entries.nth(0).getByRole("button", { name: /^Remove / }).click();
  await expect(entries).toHaveCount(1);
  await expect(chatter.locator(".saved-mark")).toHaveCount(0);
  expect(errors).toEqual([]);
  await closeAll(aliceContext, bobContext);
});

test("Saved messages shows the newest 50 and Show older the rest", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  for (let i = 1; i <= 55; i++) {
    const sent = await postMessage(bobContext.request, room, `item ${i}`);
    expect((await aliceContext.request.put(`/conversations/${room}/messages/${sent.number}/save`)).status()).toBe(200);
  }
  await alicePage.goto("/saved");
  const entries = alicePage.locator(".saved-entry");
  await expect(entries).toHaveCount(50);
  await expect(entries.first()).toContainText("item 55");
  // (A press before the page has hydrated does nothing: pressed until it does.)
  const older = alicePage.getByRole("button", { name: "Show older" });
  await whenHydrated(
    async () => {
      if ((await older.count()) > 0) await older.click({ timeout: 2_000 });
    },
    () => expect(entries).toHaveCount(55, { timeout: 2_000 }),
  );
  await expect(entries.last()).toContainText("item 1");
  await expect(alicePage.getByRole("button", { name: "Show older" })).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});
