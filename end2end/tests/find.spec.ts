import { expect, test, type BrowserContext, type Page } from "./fixtures";
import { createRoom, postMessage, registerUser, uniqueName } from "./helpers";

// The search page (`/find?q=`): what was typed is searched for exactly once
// decoded, hits from archived rooms are named, and a long message is listed
// as a few lines around its match.

/** Waits until the page has hydrated: the theme toggle claims a state only then. */
async function hydrated(page: Page) {
  await expect(page.locator(".theme-toggle[aria-pressed]")).toHaveCount(1, { timeout: 45_000 });
}

/** A fresh person (so only their messages can match) with a room of their own. */
async function searcher(context: BrowserContext) {
  await registerUser(context, "finder");
  return createRoom(context.request, { kind: "open", title: uniqueName("Finds ") });
}

/** The hits' text as shown (an empty part before the match renders as a space). */
const hitTexts = async (page: Page) => (await page.locator("li.hit .hit-body").allTextContents()).map((text) => text.trim());

test("a query with escapes in it is searched for as typed, from the address and from the search box", async ({ browser }) => {
  const context = await browser.newContext();
  const room = await searcher(context);
  const word = uniqueName("zq");
  await postMessage(context.request, room, `${word} banana`);
  await postMessage(context.request, room, `${word} token %41 here`);
  await postMessage(context.request, room, `${word} we are 100% sure`);
  await postMessage(context.request, room, `${word} the code is 100%25 exactly`);
  await postMessage(context.request, room, `${word} tag a+b&c#d é x%42y`);
  const page = await context.newPage();

  // Someone searched for the literal text `%41` (`%2541` in the address):
  // not `A`.
  await page.goto(`/find?q=${encodeURIComponent(`${word} %41`)}`);
  await expect(page.locator("li.hit")).toHaveCount(1);
  expect(await hitTexts(page)).toEqual([`${word} token %41 here`]);
  await expect(page.locator(".find input[name=q]")).toHaveValue(`${word} %41`);
  await hydrated(page);
  await expect(page.locator(".find input[name=q]")).toHaveValue(`${word} %41`);
  await expect(page.locator("li.hit")).toHaveCount(1);

  // Typed in the sidebar's box: `100%25` is that text, not `100%`.
  const box = page.locator(".sidebar-search input[name=q]");
  await box.fill(`${word} 100%25`);
  await box.press("Enter");
  await expect(page).toHaveURL(/\/find\?q=/);
  await expect(page.locator(".find input[name=q]")).toHaveValue(`${word} 100%25`);
  await expect(page.locator("li.hit")).toHaveCount(1);
  expect(await hitTexts(page)).toEqual([`${word} the code is 100%25 exactly`]);

  // `%`, `&`, `#`, `+`, spaces and accents come back exactly as typed.
  const typed = `${word} a+b&c#d é x%42y`;
  await hydrated(page);
  await page.locator(".find input[name=q]").fill(typed);
  await page.locator(".find input[name=q]").press("Enter");
  await expect(page.locator(".find input[name=q]")).toHaveValue(typed);
  await expect(page.locator("li.hit")).toHaveCount(1);
  expect(await hitTexts(page)).toEqual([`${word} tag a+b&c#d é x%42y`]);
  await hydrated(page);
  await expect(page.locator(".find input[name=q]")).toHaveValue(typed);
  await context.close();
});

test("a hit from an archived room is listed with the room's title, marked archived", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "archivist");
  const title = uniqueName("Old project ");
  const room = await createRoom(context.request, { kind: "open", title });
  const word = uniqueName("arch");
  await postMessage(context.request, room, `the ${word} plan`);
  const archived = await context.request.delete(`/conversations/${room}`);
  expect(archived.ok()).toBe(true);
  const page = await context.newPage();
  await page.goto(`/find?q=${word}`);
  const hit = page.locator("li.hit");
  await expect(hit).toHaveCount(1);
  await expect(hit.locator(".hit-room")).toHaveText(`${title} (archived)`);
  await hydrated(page);
  await expect(hit.locator(".hit-room")).toHaveText(`${title} (archived)`);
  await context.close();
});

test("a hit on a long message shows a few lines around the match, not the whole text", async ({ browser }) => {
  const context = await browser.newContext();
  const room = await searcher(context);
  const word = uniqueName("longword");
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `filler sentence number ${i} goes on.`).join(" ");
  await postMessage(context.request, room, `${filler(60)} here is the ${word} we look for. ${filler(60)}`);
  const page = await context.newPage();
  await page.goto(`/find?q=${word}`);
  const hit = page.locator("li.hit");
  await expect(hit).toHaveCount(1);
  await expect(hit.locator("mark")).toHaveText(word);
  await expect(hit.locator("mark")).toBeInViewport();
  const body = await hit.locator(".hit-body").boundingBox();
  expect(body).not.toBeNull();
  expect(body!.height).toBeLessThan(160);
  await expect(hit.locator(".hit-body")).toContainText(`here is the ${word} we look for.`);
  await context.close();
});

test("Search this room, from the room's header, finds that room's messages only, and the rest are a link away", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const here = await searcher(context);
  const title = uniqueName("Elsewhere ");
  const elsewhere = await createRoom(context.request, { kind: "open", title });
  const word = uniqueName("zr");
  await postMessage(context.request, here, `${word} said here`);
  await postMessage(context.request, elsewhere, `${word} said elsewhere`);
  const page = await context.newPage();
  await page.goto(`/rooms/${elsewhere}`);
  await hydrated(page);

  await page.locator(".chat-header a.room-search").click();
  await expect(page).toHaveURL(new RegExp(`/find\\?room_id=${elsewhere}$`));
  await page.locator(".find input[name=q]").fill(word);
  await page.locator(".find input[name=q]").press("Enter");
  await expect(page).toHaveURL(new RegExp(`room_id=${elsewhere}`));
  await expect(page.locator(".search-scope")).toContainText(`In ${title} only.`);
  await expect(page.locator("li.hit")).toHaveCount(1);
  expect(await hitTexts(page)).toEqual([`${word} said elsewhere`]);

  await page.locator(".search-scope a", { hasText: "Search all my rooms" }).click();
  await expect(page.locator(".search-scope")).toHaveCount(0);
  await expect(page.locator("li.hit")).toHaveCount(2);
  await expect(page.locator(".find input[name=q]")).toHaveValue(word);
  await context.close();
});

test("short words beside a longer one are named as not searched for, not silently dropped", async ({ browser }) => {
  const context = await browser.newContext();
  const room = await searcher(context);
  const word = uniqueName("zr");
  await postMessage(context.request, room, `${word} msg 11`);
  await postMessage(context.request, room, `${word} msg 12`);
  const page = await context.newPage();

  await page.goto(`/find?q=${encodeURIComponent(`${word} 11 ok`)}`);
  await expect(page.locator("li.hit")).toHaveCount(2);
  await expect(page.locator(".ignored-words")).toHaveText(
    "Not searched for: “11”, “ok”. Words under three characters count only when every word is that short.",
  );
  await page.goto(`/find?q=${encodeURIComponent(word)}`);
  await expect(page.locator("li.hit")).toHaveCount(2);
  await expect(page.locator(".ignored-words")).toHaveCount(0);
  await context.close();
});

test("a hit that matched only the markup shows its text with nothing marked", async ({ browser }) => {
  const context = await browser.newContext();
  const room = await searcher(context);
  const word = uniqueName("mk");
  await postMessage(context.request, room, `see **${word}** now`);
  const page = await context.newPage();
  // "**word**" is in the Markdown, not in the text it shows ("see word now").
  await page.goto(`/find?q=${encodeURIComponent(`**${word}**`)}`);
  await expect(page.locator("li.hit")).toHaveCount(1);
  await expect(page.locator("li.hit .hit-body")).toContainText(`see ${word} now`);
  await expect(page.locator("li.hit mark")).toHaveCount(0);
  // Where the text holds it, it is marked.
  await page.goto(`/find?q=${encodeURIComponent(word)}`);
  await expect(page.locator("li.hit mark")).toHaveText(word);
  await context.close();
});
