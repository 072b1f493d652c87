import { expect, request, test } from "./fixtures";
import { createRoom, initialsOf, postMessage, registerUser } from "./helpers";

test("a chat created through the owner's application shows in their room list and API messages arrive live", async ({ browser, baseURL }) => {
  const owner = await browser.newContext();
  await registerUser(owner, "owner");
  // The owner creates the application while signed in, so they own it.
  const created = await owner.request.post("/api/applications", { data: { application_name: "Support bot" } });
  expect(created.status()).toBe(201);
  const { application_token: token } = await created.json();
  const page = await owner.newPage();
  await page.goto("/");
  await expect(page.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });

  // Like curl: no cookies, only the token.
  const curl = await request.newContext({ baseURL });
  const chat = await curl.post(`/api/applications/${token}/chats`, { data: { chat_name: "Ticket 42" } });
  expect(chat.status()).toBe(201);
  expect(await chat.json()).toMatchObject({ type: "chat", chat_number: 1, chat_name: "Ticket 42" });

  const link = page.locator(".room-link", { hasText: "Ticket 42" });
  await expect(link).toBeVisible({ timeout: 15_000 });
  await link.click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });

  const sent = await curl.post(`/api/applications/${token}/chats/1/messages`, { data: { message_content: "hello world!" } });
  expect(sent.status()).toBe(201);
  expect(await sent.json()).toMatchObject({ type: "message", chat_number: 1, message_number: 1, message_content: "hello world!" });

  const message = page.locator("article.message", { hasText: "hello world!" });
  await expect(message).toBeVisible();
  await expect(message.locator(".author")).toHaveText("Support bot");
  await curl.dispose();
  await owner.close();
});

test("the search box finds part of a word and jumps to the message in its room", async ({ browser }) => {
  const context = await browser.newContext();
  const seeker = await registerUser(context, "seeker");
  const room = await createRoom(context.request, { kind: "open", title: `Archive ${Date.now()}` });
  for (let n = 1; n <= 120; n++) {
    await postMessage(context.request, room, n === 7 ? "the quarterly **Zebrafish** report is ready" : `filler ${n}`);
  }
  const page = await context.newPage();
  await page.goto("/");

  await page.locator(".sidebar-search input").fill("ebrafi");
  await page.locator(".sidebar-search input").press("Enter");

  const hit = page.locator(".hit", { hasText: "Zebrafish" });
  await expect(hit.locator("mark")).toHaveText("ebrafi");
  // The text as the message shows it, without its Markdown.
  await expect(hit.locator(".hit-body")).toHaveText("the quarterly Zebrafish report is ready");
  // Who said it and when, as in the room.
  await expect(hit.locator(".hit-author")).toHaveText(seeker.name);
  await expect(hit.locator("time")).toHaveText(/^Today, \d\d:\d\d$/);
  await expect(hit.locator("time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
  // Beside the sender's avatar, hidden from screen readers (the name is there).
  const avatar = hit.locator(".avatar");
  await expect(avatar).toHaveText(initialsOf(seeker.name));
  await expect(avatar).toHaveAttribute("aria-hidden", "true");
  const [face, text] = [await avatar.boundingBox(), await hit.locator(".hit-body").boundingBox()];
  expect(face!.x + face!.width).toBeLessThanOrEqual(text!.x);
  await hit.locator("a").click();
  await expect(page).toHaveURL(new RegExp(`/rooms/${room}\\?around=7`));
  const focused = page.locator("article.message.focused");
  await expect(focused).toHaveAttribute("data-number", "7");
  await expect(focused).toBeInViewport();
  await expect(page.locator(".jump-latest")).toBeVisible();

  // Scrolling down from the hit loads newer pages up to the newest message,
  // each message once and in order, and then there is nothing to jump to.
  const list = page.locator(".messages");
  const newest = page.locator('article.message[data-number="120"]');
  for (let i = 0; i < 20 && (await newest.count()) === 0; i++) {
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForTimeout(300);
  }
  await expect(newest).toBeAttached();
  await expect(page.locator(".jump-latest")).toHaveCount(0);
  await expect(page.locator(".load-newer")).toHaveCount(0);
  const numbers = (await page.locator("article.message").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-number")))));
  expect(numbers[numbers.length - 1]).toBe(120);
  expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 121 - numbers.length + i));
  expect(numbers[0]).toBeLessThanOrEqual(7);

  // 119 fillers match: the page shows the newest 50 and says so.
  await page.goto("/find?q=filler");
  await expect(page.locator(".hit")).toHaveCount(50);
  await expect(page.locator(".hit").first()).toContainText("filler 120");
  await expect(page.locator(".capped-results")).toHaveText("Showing the 50 newest matches. Add a word to narrow the search.");
  await page.goto("/find?q=ebrafi");
  await expect(page.locator(".hit")).toHaveCount(1);
  await expect(page.locator(".capped-results")).toHaveCount(0);
  // Words are matched each on its own, in any order; the mark is the first to occur.
  await page.goto(`/find?q=${encodeURIComponent("report quarterly")}`);
  await expect(page.locator(".hit")).toHaveCount(1);
  await expect(page.locator(".hit mark")).toHaveText("quarterly");
  await page.goto(`/find?q=${encodeURIComponent('"report quarterly"')}`);
  await expect(page.locator(".no-results")).toBeVisible();
  await context.close();
});
