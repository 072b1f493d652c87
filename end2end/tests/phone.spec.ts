import path from "node:path";
import { Browser, expect, Page, test } from "@playwright/test";
import { closeAll, createRoom, openLive, postMessage, registerUser, send } from "./helpers";

// Issue 15, "What to build" 7: a phone layout. Below 700 px the room list
// and a room are separate screens with a back control; the room takes the
// whole height with the composer at the bottom; one scrolling area, nothing
// sideways. Also: screenshots of the room at both viewports and in both
// themes, kept as artifacts in end2end/.results/screenshots (not committed).

const PHONE = { width: 375, height: 667 };
const DESKTOP = { width: 1440, height: 900 };

async function nothingScrollsSideways(page: Page) {
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
  }));
  expect(widths.page, "the page is no wider than the screen").toBeLessThanOrEqual(widths.window);
}

async function twoPeople(browser: Browser, viewport: { width: number; height: number }, colorScheme: "light" | "dark") {
  const aliceContext = await browser.newContext({ viewport, colorScheme });
  const bobContext = await browser.newContext({ viewport, colorScheme });
  const alice = await registerUser(aliceContext, "alice");
  const bob = await registerUser(bobContext, "bob");
  const room = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
  return { alice, bob, room, aliceContext, bobContext };
}

test("on a phone the room list and a room are separate screens, and the whole chat flow works", async ({ browser }) => {
  const { alice, room, aliceContext, bobContext } = await twoPeople(browser, PHONE, "light");
  await postMessage(aliceContext.request, room, "hello from alice, with a long unbroken word: " + "x".repeat(120));
  const page = await bobContext.newPage();

  // The room list is the home screen.
  await page.goto("/");
  const link = page.locator(`.sidebar a[href="/rooms/${room}"]`);
  await expect(link).toBeVisible();
  await expect(link).toContainText(alice.name);
  await nothingScrollsSideways(page);

  // A room: the list is gone, the room fills the screen, the composer is at
  // the bottom, and only the history scrolls.
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${room}$`));
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator(".sidebar")).toBeHidden();
  const back = page.getByRole("link", { name: "Back to conversations" });
  await expect(back).toBeVisible();
  const composer = page.getByLabel("Message", { exact: true });
  await expect(composer).toBeInViewport();
  const chat = await page.locator(".chat").boundingBox();
  expect(chat!.y + chat!.height).toBeGreaterThan(PHONE.height - 2);
  expect(chat!.y + chat!.height).toBeLessThanOrEqual(PHONE.height + 1);
  const heights = await page.evaluate(() => ({ page: document.documentElement.scrollHeight, window: window.innerHeight }));
  expect(heights.page, "the page itself does not scroll").toBeLessThanOrEqual(heights.window);
  await nothingScrollsSideways(page);

  // Chat: send, and receive live.
  await send(page, "hi alice, from my phone");
  const alicePage = await aliceContext.newPage();
  await openLive(alicePage, room);
  await expect(alicePage.locator("article.message", { hasText: "hi alice, from my phone" })).toBeVisible();
  await send(alicePage, "got it");
  await expect(page.locator("article.message", { hasText: "got it" })).toBeInViewport();
  await expect(composer).toBeInViewport();

  // Back to the list.
  await back.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator(`.sidebar a[href="/rooms/${room}"]`)).toBeVisible();
  await closeAll(aliceContext, bobContext);
});

test("on a wide screen the room list stays beside the room and there is no back control", async ({ browser }) => {
  const { room, aliceContext, bobContext } = await twoPeople(browser, DESKTOP, "light");
  const page = await bobContext.newPage();
  await openLive(page, room);
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to conversations" })).toBeHidden();
  await closeAll(aliceContext, bobContext);
});

for (const colorScheme of ["light", "dark"] as const) {
  for (const [name, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    test(`a screenshot of the room on the ${name} in the ${colorScheme} theme`, async ({ browser }) => {
      const { room, aliceContext, bobContext } = await twoPeople(browser, viewport, colorScheme);
      await postMessage(aliceContext.request, room, "Morning! The **release** notes are in `docs/`.");
      await postMessage(aliceContext.request, room, "And a link: https://example.com");
      await postMessage(bobContext.request, room, "Thanks, reading them now.");
      const page = await bobContext.newPage();
      await openLive(page, room);
      await expect(page.locator("article.message")).toHaveCount(3);
      await nothingScrollsSideways(page);
      const file = path.join(__dirname, "..", ".results", "screenshots", `room-${name}-${colorScheme}.png`);
      await page.screenshot({ path: file });
      await closeAll(aliceContext, bobContext);
    });
  }
}
