import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { createRoom, openLive, postMessage, registerUser, send } from "./helpers";

// A message's actions (issue 15): a toolbar over the row, shown on hover and
// when focus is in the row, reachable from the keyboard; Delete asks first.

test("the keyboard reaches a message's actions: Tab to it, edit with Enter, Esc cancels, delete asks first", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "tabber");
  const room = await createRoom(context.request, { kind: "open", title: `Actions ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  await send(page, "first thought");
  await send(page, "second thought");
  const composer = page.getByLabel("Message", { exact: true });
  const message = page.locator('article.message[data-number="2"]');
  const toolbar = message.getByRole("group", { name: "Message actions" });
  const editor = message.getByRole("textbox", { name: "Edit message" });
  // From the composer, Shift+Tab reaches the newest message, whose toolbar
  // then shows; Tab walks its buttons in order.
  const tabToEdit = async () => {
    await composer.focus();
    await page.keyboard.press("Shift+Tab");
    await expect(message).toBeFocused();
    await expect(toolbar).toBeVisible();
    // An edited message's "(edited)" comes first, where it shows.
    if ((await message.locator(".edited").count()) > 0) {
      await page.keyboard.press("Tab");
      await expect(message.locator("summary.edited")).toBeFocused();
    }
    await page.keyboard.press("Tab");
    await expect(message.getByRole("button", { name: "Reply to this message" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(message.getByRole("button", { name: "Add a reaction" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(message.getByRole("button", { name: "Edit message" })).toBeFocused();
  };
  await expect(toolbar).toBeHidden();

  // Edit: Enter opens the editor with focus in it; Enter saves.
  await tabToEdit();
  await page.keyboard.press("Enter");
  await expect(editor).toBeFocused();
  await editor.press("End");
  await editor.pressSequentially(", edited");
  await editor.press("Enter");
  await expect(editor).toHaveCount(0);
  await expect(message.locator(".body")).toHaveText("second thought, edited");
  await expect(message.locator(".edited")).toBeVisible();

  // Esc drops a change.
  await tabToEdit();
  await page.keyboard.press("Enter");
  await expect(editor).toBeFocused();
  await editor.pressSequentially(" never saved");
  await editor.press("Escape");
  await expect(editor).toHaveCount(0);
  await expect(message.locator(".body")).toHaveText("second thought, edited");

  // Delete asks; the confirm button has focus; Esc keeps the message and
  // gives focus back to the row.
  const confirm = message.getByRole("group", { name: "Delete this message?" });
  const tabToDelete = async () => {
    await tabToEdit();
    await page.keyboard.press("Tab");
    await expect(message.getByRole("button", { name: "Delete message" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(confirm).toBeVisible();
    await expect(confirm.getByRole("button", { name: "Delete", exact: true })).toBeFocused();
  };
  await tabToDelete();
  // The open confirmation passes axe too.
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  await expect(confirm.getByRole("button", { name: "Delete", exact: true })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(confirm).toHaveCount(0);
  await expect(message).toBeFocused();
  await expect(message.locator(".body")).toHaveText("second thought, edited");

  // Cancel keeps it too, for good.
  await tabToDelete();
  await page.keyboard.press("Tab");
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(confirm).toHaveCount(0);
  await expect(message).toBeFocused();
  await page.reload();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(message.locator(".body")).toHaveText("second thought, edited");

  // Enter on the confirm button deletes; focus stays on the row. A reaction
  // arriving meanwhile draws the row again: the question stays, focused.
  await tabToDelete();
  const reacted = await context.request.post(`/conversations/${room}/messages/2/reactions`, { data: { emoji: "👍" } });
  expect(reacted.status()).toBe(200);
  await expect(message.locator("button.reaction[data-emoji='👍']")).toContainText("1");
  await expect(confirm).toBeVisible();
  await expect(confirm.getByRole("button", { name: "Delete", exact: true })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(message.locator(".body")).toHaveText("This message was deleted.");
  await expect(message).toBeFocused();
  await expect(page.locator('article.message[data-number="1"] .body')).toHaveText("first thought");
  await page.reload();
  await expect(message.locator(".body")).toHaveText("This message was deleted.");
  await context.close();
});

test("hovering a message shows its toolbar over the row, without moving the list", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "hoverer");
  const room = await createRoom(context.request, { kind: "open", title: `Hover ${Date.now()}` });
  for (let i = 1; i <= 30; i++) await postMessage(context.request, room, `line ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  const list = page.locator(".messages");
  const message = page.locator('article.message[data-number="30"]');
  const toolbar = message.getByRole("group", { name: "Message actions" });
  await expect(message).toBeInViewport();
  await expect(toolbar).toBeHidden();
  const measure = () =>
    list.evaluate((el) => ({ height: el.scrollHeight, top: el.scrollTop, rows: el.querySelectorAll("article").length }));
  const before = await measure();
  const rowBefore = await message.boundingBox();

  await message.hover();

  await expect(toolbar).toBeVisible();
  await expect(toolbar.getByRole("button", { name: "Edit message" })).toBeVisible();
  await expect(toolbar.getByRole("button", { name: "Delete message" })).toBeVisible();
  expect(await toolbar.evaluate((el) => getComputedStyle(el).position)).toBe("absolute");
  expect(await measure()).toEqual(before);
  expect(await message.boundingBox()).toEqual(rowBefore);

  // Moving away hides it again.
  await page.locator(".chat-header h1").hover();
  await expect(toolbar).toBeHidden();
  await context.close();
});

test("the history is one Tab stop, walked with the arrow keys, and Tab comes back to the message last in focus", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "walker");
  const room = await createRoom(context.request, { kind: "open", title: `Walk ${Date.now()}` });
  for (const body of ["one", "two", "three"]) await postMessage(context.request, room, body);
  const page = await context.newPage();
  await openLive(page, room);
  const row = (n: number) => page.locator(`article.message[data-number="${n}"]`);
  const composer = page.getByLabel("Message", { exact: true });
  const inHistory = () => page.evaluate(() => document.activeElement?.closest("article.message") != null);

  // Only the newest message is in the Tab order.
  await expect(page.locator('article.message[tabindex="0"]')).toHaveCount(1);
  await expect(row(3)).toHaveAttribute("tabindex", "0");
  await composer.focus();
  await page.keyboard.press("Shift+Tab");
  await expect(row(3)).toBeFocused();
  // The arrows walk the messages, stopping at either end; Home and End jump.
  for (const [key, to] of [
    ["ArrowUp", 2],
    ["ArrowUp", 1],
    ["ArrowUp", 1],
    ["End", 3],
    ["ArrowDown", 3],
    ["Home", 1],
    ["ArrowDown", 2],
  ] as const) {
    await page.keyboard.press(key);
    await expect(row(to), `${key} to ${to}`).toBeFocused();
  }
  await expect(page.locator('article.message[tabindex="0"]')).toHaveCount(1);
  await expect(row(2)).toHaveAttribute("tabindex", "0");
  // Shift+Tab leaves the history at once, and comes back to message 2.
  await page.keyboard.press("Shift+Tab");
  expect(await inHistory()).toBe(false);
  await composer.focus();
  await page.keyboard.press("Shift+Tab");
  await expect(row(2)).toBeFocused();
  // Tab from the row goes into its own actions, not to the next message.
  await page.keyboard.press("Tab");
  await expect(row(2).getByRole("button", { name: "Reply to this message" })).toBeFocused();
  // Arrows typed while editing are the editor's.
  await composer.focus();
  await composer.press("ArrowUp");
  const editor = row(3).getByRole("textbox", { name: "Edit message" });
  await expect(editor).toBeFocused();
  await editor.press("ArrowUp");
  await expect(editor).toBeFocused();
  await editor.press("Escape");
  await context.close();
});

test("links and buttons inside messages do not make the history more Tab stops than one", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "linker");
  const room = await createRoom(context.request, { kind: "open", title: `Links ${Date.now()}` });
  for (let i = 1; i <= 6; i++) await postMessage(context.request, room, `see https://example.com/${i} and react`);
  await context.request.put(`/conversations/${room}/messages/2/reactions/${encodeURIComponent("👍")}`);
  const page = await context.newPage();
  await openLive(page, room);
  const composer = page.getByLabel("Message", { exact: true });
  const where = () =>
    page.evaluate(() => {
      const active = document.activeElement!;
      const row = active.closest("article.message") as HTMLElement | null;
      return { row: row ? Number(row.dataset.number) : null, isRow: active === row, inHistory: !!active.closest(".messages") };
    });

  // Backwards from the composer: the newest message itself, then out of the history.
  await composer.focus();
  await page.keyboard.press("Shift+Tab");
  expect(await where()).toEqual({ row: 6, isRow: true, inHistory: true });
  await page.keyboard.press("Shift+Tab");
  expect((await where()).inHistory).toBe(false);
  // Forwards: the message, then its own link and actions, then the composer;
  // no other message's link or reaction on the way.
  const rows = new Set<number>();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    const at = await where();
    if (!at.inHistory) break;
    rows.add(at.row!);
  }
  await expect(composer).toBeFocused();
  expect([...rows]).toEqual([6]);
  // A click on another message's link area makes that message the one.
  await page.locator('article.message[data-number="2"]').click({ position: { x: 5, y: 5 } });
  await expect(page.locator('article.message[data-number="2"] a[href^="https://example.com"]')).not.toHaveAttribute("tabindex", "-1");
  await expect(page.locator('article.message[data-number="6"] a[href^="https://example.com"]')).toHaveAttribute("tabindex", "-1");
  await context.close();
});

test("a message walked to at the history's top edge shows its whole toolbar, not half of it under the header", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  await registerUser(context, "edger");
  const room = await createRoom(context.request, { kind: "open", title: `Edge ${Date.now()}` });
  for (let i = 1; i <= 30; i++) await postMessage(context.request, room, `message ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  const list = page.locator(".messages");
  await page.getByLabel("Message", { exact: true }).focus();
  await page.keyboard.press("Shift+Tab");
  // Up until the row in focus is the one at the top of what is shown.
  for (let i = 0; i < 12; i++) await page.keyboard.press("ArrowUp");
  const focused = page.locator("article.message:focus");
  await expect(focused.locator(".actions")).toBeVisible();

  const [shown, bar] = [await list.boundingBox(), await focused.locator(".actions").boundingBox()];

  expect(bar!.y, "the toolbar's top is inside the history").toBeGreaterThanOrEqual(shown!.y - 1);

  // Hovered with the mouse (no focus, no scrolling), a row at the top edge
  // shows its toolbar over its bottom edge instead; one lower down, over its top.
  await page.getByLabel("Message", { exact: true }).focus();
  const top = page.locator('article.message[data-number="10"]');
  await top.evaluate((row) => row.scrollIntoView({ block: "start" }));
  await top.hover();
  const [edge, hovered] = [await list.boundingBox(), await top.locator(".actions").boundingBox()];
  expect(hovered!.y, "the hovered toolbar is inside the history").toBeGreaterThanOrEqual(edge!.y - 1);
  const lower = page.locator('article.message[data-number="13"]');
  await lower.hover();
  const [row, over] = [await lower.boundingBox(), await lower.locator(".actions").boundingBox()];
  expect(over!.y, "over the row's top edge").toBeLessThan(row!.y);
  await context.close();
});

test("focus stays on a message while older history loads under it, and Up goes on into what loaded", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "climber");
  const room = await createRoom(context.request, { kind: "open", title: `Climb ${Date.now()}` });
  for (let i = 1; i <= 70; i++) await postMessage(context.request, room, `step ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  const row = (n: number) => page.locator(`article.message[data-number="${n}"]`);
  await expect(row(20)).toHaveCount(0);
  await page.getByLabel("Message", { exact: true }).focus();
  await page.keyboard.press("Shift+Tab");
  await expect(row(70)).toBeFocused();
  await page.keyboard.press("Home");
  await expect(row(21)).toBeFocused(); // the first of the 50 loaded
  // At the top, the ones before it load; focus stays on it.
  await page.locator(".messages").evaluate((list) => (list.scrollTop = 0));
  await expect(row(1)).toHaveCount(1);
  await expect(row(21)).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(row(20)).toBeFocused();
  await page.keyboard.press("Home");
  await expect(row(1)).toBeFocused();
  await context.close();
});

test("Tab onto Load older messages keeps focus there and loads nothing; pressing it loads, and focus goes to the message that was first, never to the page", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "pager");
  const room = await createRoom(context.request, { kind: "open", title: `Pager ${Date.now()}` });
  for (let i = 1; i <= 120; i++) await postMessage(context.request, room, `page ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  const row = (n: number) => page.locator(`article.message[data-number="${n}"]`);
  const older = page.locator(".messages .load-older");
  const focusInHistory = () => page.evaluate(() => document.activeElement?.closest(".messages") != null);
  await expect(row(71)).toHaveCount(1);
  await expect(row(70)).toHaveCount(0);

  // Tab from the header: the history's first stop is the button.
  await page.locator(".chat-header h1").click();
  for (let i = 0; i < 20 && !(await focusInHistory()); i++) await page.keyboard.press("Tab");
  await expect(older).toBeFocused();
  // Focus alone (which scrolls the list to its top) loads nothing, and
  // focus stays on the button.
  await page.waitForTimeout(1_000);
  await expect(older).toBeFocused();
  await expect(row(70)).toHaveCount(0);

  // Enter loads the page before; focus goes to the message that was first.
  await page.keyboard.press("Enter");
  await expect(row(21)).toHaveCount(1);
  await expect(row(71)).toBeFocused();
  await expect(older).toHaveCount(1);
  await page.keyboard.press("ArrowUp");
  await expect(row(70)).toBeFocused();

  // Back to the button, and the last page: the button goes, focus does not.
  await page.keyboard.press("Shift+Tab");
  await expect(older).toBeFocused();
  await page.waitForTimeout(500);
  await expect(row(20)).toHaveCount(0);
  await page.keyboard.press("Enter");
  await expect(row(1)).toHaveCount(1);
  await expect(page.locator(".messages .start-of-history")).toBeVisible();
  await expect(older).toHaveCount(0);
  await expect(row(21)).toBeFocused();
  await context.close();
});

test("Jump to the newest, pressed from the keyboard, leaves focus in the composer, not on the page", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "jumper");
  const room = await createRoom(context.request, { kind: "open", title: `Jumper ${Date.now()}` });
  for (let i = 1; i <= 60; i++) await postMessage(context.request, room, `line ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  await expect(page.locator('article.message[data-number="60"]')).toHaveCount(1);
  // Scrolled up a little (not to the top, which loads older ones).
  await page.locator(".messages").evaluate((list) => (list.scrollTop = list.scrollHeight - list.clientHeight - 900));
  const jump = page.locator(".jump-latest");
  await expect(jump).toBeVisible();
  await jump.focus();
  await page.keyboard.press("Enter");
  await expect(jump).toHaveCount(0);
  await expect(page.locator(".composer textarea")).toBeFocused();
  await context.close();
});

test("Up in the composer of a room opened far up its history edits nothing, since my last message is not loaded", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "jumper");
  const room = await createRoom(context.request, { kind: "open", title: `Far up ${Date.now()}` });
  for (let i = 1; i <= 90; i++) await postMessage(context.request, room, `note ${i}`);
  const page = await context.newPage();
  await page.goto(`/rooms/${room}?around=5`);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator('article.message[data-number="5"]')).toBeVisible();
  await expect(page.locator('article.message[data-number="90"]')).toHaveCount(0);
  const composer = page.getByLabel("Message", { exact: true });
  await composer.focus();
  await composer.press("ArrowUp");
  await expect(page.getByRole("textbox", { name: "Edit message" })).toHaveCount(0);
  await expect(composer).toBeFocused();

  // At the newest messages, Up edits the last of mine.
  await openLive(page, room);
  await page.getByLabel("Message", { exact: true }).press("ArrowUp");
  const editor = page.locator('article.message[data-number="90"]').getByRole("textbox", { name: "Edit message" });
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue("note 90");
  await context.close();
});

test("a row clicked, then another hovered: only the hovered row's toolbar shows, and the clicked one's comes back after", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "pointer");
  const room = await createRoom(context.request, { kind: "open", title: `Pointer ${Date.now()}` });
  for (const text of ["one", "two", "three"]) await postMessage(context.request, room, text);
  const page = await context.newPage();
  await openLive(page, room);
  const toolbar = (n: number) => page.locator(`article.message[data-number="${n}"]`).getByRole("group", { name: "Message actions" });

  await page.locator('article.message[data-number="1"] .body').click();
  await expect(toolbar(1)).toBeVisible();
  await page.locator('article.message[data-number="3"] .body').hover();
  await expect(toolbar(3)).toBeVisible();
  await expect(toolbar(1)).toBeHidden();
  await page.mouse.move(2, 2);
  await expect(toolbar(1)).toBeVisible();
  await expect(toolbar(3)).toBeHidden();
  await context.close();
});

test("after Jump to the newest, the address no longer points into history: a reload stays at the newest", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "returner");
  const room = await createRoom(context.request, { kind: "open", title: `Return ${Date.now()}` });
  for (let i = 1; i <= 90; i++) await postMessage(context.request, room, `line ${i}`);
  const page = await context.newPage();
  await page.goto(`/rooms/${room}?around=5`);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator('article.message[data-number="5"]')).toBeVisible();

  await page.locator(".jump-latest").click();
  await expect(page.locator('article.message[data-number="90"]')).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/rooms/${room}$`));

  await page.reload();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator('article.message[data-number="90"]')).toBeVisible();
  await expect(page.locator('article.message[data-number="5"]')).toHaveCount(0);
  await context.close();
});

test("the wheel over the floating jump button scrolls the history under it", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "wheeler");
  const room = await createRoom(context.request, { kind: "open", title: `Wheel ${Date.now()}` });
  for (let i = 1; i <= 60; i++) await postMessage(context.request, room, `row ${i}`);
  const page = await context.newPage();
  await openLive(page, room);
  const list = page.locator(".messages");
  await list.hover();
  await page.mouse.wheel(0, -1500);
  const jump = page.locator(".jump-latest");
  await expect(jump).toBeVisible();
  const before = await list.evaluate((el) => el.scrollTop);
  const box = (await jump.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, 400);
  await expect.poll(() => list.evaluate((el) => el.scrollTop)).toBeGreaterThan(before + 100);
  await context.close();
});
