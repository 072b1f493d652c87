import AxeBuilder from "@axe-core/playwright";
import { expect, test, type BrowserContext, type Page } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser } from "./helpers";

// Mentions and notifications in the browser (issue 17): the composer's @
// autocomplete, the room header's level, the favicon's dot, desktop
// notifications while the tab is hidden, the service worker and the manifest.

async function axeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("@ in the composer lists the room's members; arrows, Enter and Esc work it by keyboard alone", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const otherContext = await browser.newContext();
  const thirdContext = await browser.newContext();
  await registerUser(context, "alice");
  const bob = await registerUser(otherContext, "bob");
  const bonnie = await registerUser(thirdContext, "bonnie");
  const room = await createRoom(context.request, { participant_ids: [bob.id, bonnie.id], title: `Crew ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  const composer = page.getByRole("combobox", { name: "Message" });
  const list = page.getByRole("listbox", { name: "People to mention" });
  await expect(composer).toHaveAttribute("aria-expanded", "false");
  await expect(composer).toHaveAttribute("aria-controls", "mention-list");

  await composer.focus();
  await page.keyboard.type("@bo");

  await expect(list).toBeVisible();
  await expect(composer).toHaveAttribute("aria-expanded", "true");
  const options = list.getByRole("option");
  await expect(options).toHaveCount(2);
  await expect(options.nth(0)).toHaveAttribute("aria-selected", "true");
  expect(await axeViolations(page)).toEqual([]);
  // Down (and round again) until Bob is the one chosen; the textarea says which.
  const bobOption = options.filter({ hasText: `@${bob.username}` });
  for (let i = 0; i < 2 && (await bobOption.getAttribute("aria-selected")) !== "true"; i++) {
    await page.keyboard.press("ArrowDown");
  }
  await expect(bobOption).toHaveAttribute("aria-selected", "true");
  await expect(composer).toHaveAttribute("aria-activedescendant", (await bobOption.getAttribute("id"))!);

  await page.keyboard.press("Enter");

  // Enter picked: nothing was sent.
  await expect(composer).toHaveValue(`@${bob.username} `);
  await expect(list).toBeHidden();
  await expect(composer).toHaveAttribute("aria-expanded", "false");
  await expect(page.locator("article.message")).toHaveCount(0);

  // Esc closes the list; the text stays as typed.
  await page.keyboard.type("and @bon");
  await expect(options).toHaveCount(1);
  await page.keyboard.press("Escape");
  await expect(list).toBeHidden();
  await expect(composer).toHaveValue(`@${bob.username} and @bon`);
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("hello");

  // With the list closed, Enter sends; the message mentions Bob.
  await page.keyboard.press("Enter");
  await expect(page.locator("article.message:not(.pending) .body")).toHaveText(`@${bob.username} and hello`);
  const messages = await (await context.request.get(`/conversations/${room}/messages`)).json();
  expect(messages.messages.at(-1).mentions).toEqual([bob.id]);
  // The name is highlighted for everyone; for Bob, whom it mentions, the
  // whole message stands out too (not for Alice, nor for Bonnie).
  await expect(page.locator("article.message .body .mention")).toHaveText(`@${bob.username}`);
  await expect(page.locator("article.message.mentions-me")).toHaveCount(0);
  const bobPage = await otherContext.newPage();
  await openLive(bobPage, room);
  await expect(bobPage.locator("article.message.mentions-me .mention")).toHaveText(`@${bob.username}`);
  expect(await axeViolations(bobPage)).toEqual([]);
  const bonniePage = await thirdContext.newPage();
  await openLive(bonniePage, room);
  await expect(bonniePage.locator("article.message .mention")).toHaveText(`@${bob.username}`);
  await expect(bonniePage.locator("article.message.mentions-me")).toHaveCount(0);
  await closeAll(context, otherContext, thirdContext);
});

test("a mention can be picked with the mouse too", async ({ browser }) => {
  const { bob, room, aliceContext, bobContext, alicePage } = await pair(browser);
  await openLive(alicePage, room);
  const composer = alicePage.getByRole("combobox", { name: "Message" });
  await composer.focus();
  await alicePage.keyboard.type("hi @");
  await alicePage.getByRole("option", { name: new RegExp(bob.username) }).click();
  await expect(composer).toHaveValue(`hi @${bob.username} `);
  await expect(composer).toBeFocused();
  await closeAll(aliceContext, bobContext);
});

test("a mention is found by a name in any script, whatever its case", async ({ browser }) => {
  const { bob, room, aliceContext, bobContext, alicePage } = await pair(browser);
  expect((await bobContext.request.put("/users/me", { data: { name: "Łukasz 山田" } })).status()).toBe(200);
  await openLive(alicePage, room);
  const composer = alicePage.getByRole("combobox", { name: "Message" });
  const list = alicePage.getByRole("listbox", { name: "People to mention" });
  await composer.focus();
  for (const typed of ["@ŁUK", "@łu", "@山田"]) {
    await composer.fill("");
    await alicePage.keyboard.type(typed);
    await expect(list.getByRole("option")).toHaveCount(1);
    await expect(list.getByRole("option")).toContainText(`@${bob.username}`);
  }
  await alicePage.keyboard.press("Enter");
  await expect(composer).toHaveValue(`@${bob.username} `);
  await closeAll(aliceContext, bobContext);
});

test("the room header sets my notification level, and it stays", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  await openLive(alicePage, room);
  const level = alicePage.getByLabel("Notify me");
  await expect(level).toHaveValue("default");
  await expect(level.locator("option:checked")).toHaveText("Default (Everything)");

  await level.selectOption("nothing");

  await expect
    .poll(async () => (await aliceContext.request.get(`/conversations/${room}/notifications`)).json())
    .toEqual({ level: "nothing", default: false });
  // The sidebar says it is muted, and its count is kept but quieter.
  const entry = alicePage.locator(`.room-link[data-room-id="${room}"]`);
  await expect(entry).toHaveClass(/muted-room/);
  await expect(entry.locator(".muted-mark")).toHaveText("(muted)");
  await alicePage.goto("/");
  await postMessage(bobContext.request, room, "while muted");
  await expect(entry.locator(".unread")).toHaveText("1");
  // Not the accent every other count is drawn in.
  const accent = await alicePage.evaluate(() => {
    const probe = document.createElement("span");
    probe.style.background = "var(--accent)";
    document.body.append(probe);
    const colour = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return colour;
  });
  expect(accent).toMatch(/^rgb/);
  expect(await entry.locator(".unread").evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe(accent);
  expect(await axeViolations(alicePage), "the quieter count still reads").toEqual([]);
  await alicePage.emulateMedia({ colorScheme: "dark" });
  await alicePage.reload();
  await expect(entry.locator(".unread")).toHaveText("1");
  expect(await axeViolations(alicePage), "in the dark theme too").toEqual([]);
  await alicePage.emulateMedia({ colorScheme: "light" });
  await alicePage.goto(`/rooms/${room}`);
  await expect(alicePage.getByLabel("Notify me")).toHaveValue("nothing");
  expect(await axeViolations(alicePage)).toEqual([]);
  await alicePage.getByLabel("Notify me").selectOption("default");
  await expect
    .poll(async () => (await aliceContext.request.get(`/conversations/${room}/notifications`)).json())
    .toEqual({ level: "everything", default: true });
  await expect(entry).not.toHaveClass(/muted-room/);
  await closeAll(aliceContext, bobContext);
});

test("the favicon has a dot while anything is unread", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  await alicePage.goto("/");
  await expect(alicePage.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  const icon = alicePage.locator('link[rel="icon"]');
  await expect(icon).toHaveAttribute("href", "/favicon.svg");

  await postMessage(bobContext.request, room, "are you there?");
  await expect(icon).toHaveAttribute("href", "/favicon-unread.svg");
  expect((await alicePage.request.get("/favicon-unread.svg")).status()).toBe(200);

  await alicePage.locator(`.room-link[data-room-id="${room}"]`).click();
  await expect(icon).toHaveAttribute("href", "/favicon.svg");
  await closeAll(aliceContext, bobContext);
});

/** Replaces only the `Notification` constructor, recording each call; permission stays the browser's. */
async function recordNotifications(context: BrowserContext) {
  await context.grantPermissions(["notifications"]);
  await context.addInitScript(() => {
    const Real = window.Notification;
    const shown: { title: string; body?: string; tag?: string }[] = [];
    const made: { onclick: (() => void) | null }[] = [];
    const closed: string[] = [];
    class Recording {
      onclick: (() => void) | null = null;
      tag?: string;
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, body: options?.body, tag: options?.tag });
        made.push(this);
        this.tag = options?.tag;
      }
      close() {
        closed.push(this.tag ?? "");
      }
      static get permission() {
        return Real.permission;
      }
      static requestPermission() {
        return Real.requestPermission();
      }
    }
    Object.assign(window, {
      Notification: Recording,
      shownNotifications: shown,
      madeNotifications: made,
      closedNotifications: closed,
    });
  });
}

async function hideTab(page: Page) {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

/** Opens the home page and waits for the live link. */
async function openHome(page: Page) {
  await page.goto("/");
  await expect(page.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
}

const shown = (page: Page) => page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications);
const closed = (page: Page) => page.evaluate(() => (window as unknown as { closedNotifications: string[] }).closedNotifications);

test("one hidden tab of several notifies; its notification is taken back when read elsewhere or deleted; a woken tab's catch-up notifies nothing", async ({
  browser,
}) => {
  const { bob, room: direct, aliceContext, bobContext, alicePage } = await pair(browser);
  await recordNotifications(aliceContext);
  const otherTab = await aliceContext.newPage();
  for (const page of [alicePage, otherTab]) {
    await openHome(page);
    await hideTab(page);
  }
  const count = async () => (await shown(alicePage)).length + (await shown(otherTab)).length;

  // Two hidden tabs: one notification between them.
  await postMessage(bobContext.request, direct, "first");
  await expect.poll(count).toBe(1);
  const notifier = (await shown(alicePage)).length === 1 ? alicePage : otherTab;
  await otherTab.waitForTimeout(1_000);
  expect(await count()).toBe(1);

  // Read on the phone: taken back.
  expect((await aliceContext.request.put(`/conversations/${direct}/read`, { data: {} })).status()).toBe(200);
  await expect.poll(() => closed(notifier)).toEqual([`room-${direct}`]);

  // Deleted: taken back too.
  const oops = await postMessage(bobContext.request, direct, "my password is hunter2");
  await expect.poll(count).toBe(2);
  expect((await bobContext.request.delete(`/conversations/${direct}/messages/${oops.number}`)).status()).toBe(204);
  await expect.poll(async () => (await closed(alicePage)).length + (await closed(otherTab)).length).toBe(2);

  // Asleep (offline) while three arrive: back, the tabs catch up without a
  // notification each; the next message notifies again.
  await aliceContext.setOffline(true);
  for (const page of [alicePage, otherTab]) {
    await expect(page.locator(".layout")).toHaveAttribute("data-link", "offline", { timeout: 30_000 });
  }
  for (const n of [1, 2, 3]) await postMessage(bobContext.request, direct, `while you slept ${n}`);
  await aliceContext.setOffline(false);
  for (const page of [alicePage, otherTab]) {
    await expect(page.locator(`.room-link[data-room-id="${direct}"] .room-preview`)).toHaveText("while you slept 3", {
      timeout: 30_000,
    });
  }
  await alicePage.waitForTimeout(1_000);
  expect(await count()).toBe(2);
  await postMessage(bobContext.request, direct, `good morning from ${bob.name}`);
  await expect.poll(count).toBe(3);
  await closeAll(aliceContext, bobContext);
});

test("while the tab is hidden a message my level lets through is a desktop notification; a click opens its room", async ({
  browser,
}) => {
  const { alice, bob, room: direct, aliceContext, bobContext, alicePage } = await pair(browser);
  const crewTitle = `Crew ${Date.now()}`;
  const crew = await createRoom(aliceContext.request, { kind: "group", participant_ids: [bob.id], title: crewTitle });
  const quiet = await createRoom(aliceContext.request, {
    kind: "group",
    participant_ids: [bob.id],
    title: `Quiet ${Date.now()}`,
  });
  const put = await aliceContext.request.put(`/conversations/${quiet}/notifications`, { data: { level: "nothing" } });
  expect(put.status()).toBe(200);
  await recordNotifications(aliceContext);
  await alicePage.goto("/");
  await expect(alicePage.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  expect(await alicePage.evaluate(() => Notification.permission)).toBe("granted");

  // Visible: the badge counts it, and nothing pops up.
  await postMessage(bobContext.request, direct, "while you look");
  await expect(alicePage.locator(`.room-link[data-room-id="${direct}"]`).getByRole("img", { name: "1 unread message" })).toBeVisible();
  expect(await shown(alicePage)).toEqual([]);

  await hideTab(alicePage);
  await postMessage(bobContext.request, quiet, `@${alice.username} quiet room, level nothing`);
  await postMessage(bobContext.request, crew, "not for you: your level here is mentions");
  await postMessage(bobContext.request, crew, `@${alice.username} look at this`);
  await postMessage(bobContext.request, direct, "hello from **Bob**");

  await expect.poll(() => shown(alicePage)).toHaveLength(2);
  expect(await shown(alicePage)).toEqual([
    { title: `${bob.name} in ${crewTitle}`, body: `@${alice.username} look at this`, tag: `room-${crew}` },
    { title: bob.name, body: "hello from Bob", tag: `room-${direct}` },
  ]);
  // My own messages never notify me. The list's preview reads as the
  // message shows, without its Markdown.
  await postMessage(aliceContext.request, direct, "my _own_ `words`");
  await expect(alicePage.locator(`.room-link[data-room-id="${direct}"] .room-preview`)).toHaveText("You: my own words");
  expect(await shown(alicePage)).toHaveLength(2);

  // A click focuses the tab and opens the room.
  await alicePage.evaluate(() =>
    (window as unknown as { madeNotifications: { onclick: () => void }[] }).madeNotifications[0].onclick(),
  );
  await expect(alicePage).toHaveURL(new RegExp(`/rooms/${crew}$`));
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-room-id", String(crew));
  await closeAll(aliceContext, bobContext);
});

test("while the tab is hidden the first message of a direct room or group just made with me is a desktop notification", async ({
  browser,
}) => {
  // The socket follows a room from when it hears of it, after its first
  // message: that one is said from the room list.
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const alice = await registerUser(aliceContext, "newdm");
  const bob = await registerUser(bobContext, "starter");
  await recordNotifications(aliceContext);
  const alicePage = await aliceContext.newPage();
  await alicePage.goto("/");
  await expect(alicePage.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  await hideTab(alicePage);

  const direct = await createRoom(bobContext.request, { participant_ids: [alice.id] });
  await postMessage(bobContext.request, direct, "Hey, I am your onboarding buddy");
  await expect.poll(() => shown(alicePage)).toHaveLength(1);
  const title = `Offsite ${Date.now()}`;
  const third = await registerUser(await browser.newContext(), "third");
  const group = await createRoom(bobContext.request, { kind: "group", participant_ids: [alice.id, third.id], title });
  await postMessage(bobContext.request, group, `@${alice.username} can you book the train?`);
  await expect.poll(() => shown(alicePage)).toHaveLength(2);
  expect(await shown(alicePage)).toEqual([
    { title: bob.name, body: "Hey, I am your onboarding buddy", tag: `room-${direct}` },
    { title: `${bob.name} in ${title}`, body: `@${alice.username} can you book the train?`, tag: `room-${group}` },
  ]);
  await closeAll(aliceContext, bobContext);
});

test("while the tab is in front, a message in another room is read out to a screen reader; the open room's by the room", async ({
  browser,
}) => {
  const { bob, room: direct, aliceContext, bobContext, alicePage } = await pair(browser);
  const crewTitle = `Crew ${Date.now()}`;
  const crew = await createRoom(aliceContext.request, { kind: "group", participant_ids: [bob.id], title: crewTitle });
  await openLive(alicePage, crew);
  const elsewhere = alicePage.locator(".elsewhere-announcer");
  await expect(elsewhere).toHaveAttribute("aria-live", "polite");

  await postMessage(bobContext.request, direct, "psst, over here");
  await expect(elsewhere).toHaveText(`${bob.name}: psst, over here`);
  // The open room's messages are the room's announcer's.
  await postMessage(bobContext.request, crew, "in the open room");
  await expect(alicePage.locator(".announcer")).toHaveText(`${bob.name}: in the open room`);
  await expect(elsewhere).toHaveText(`${bob.name}: psst, over here`);
  // The same words again are read again: the region changes.
  const before = await elsewhere.textContent();
  await postMessage(bobContext.request, direct, "psst, over here");
  await expect.poll(() => elsewhere.textContent()).not.toBe(before);
  await closeAll(aliceContext, bobContext);
});

test("turned off on the profile page, desktop notifications stay quiet in open tabs too, and come back when turned on", async ({
  browser,
}) => {
  const { bob, room: direct, aliceContext, bobContext, alicePage } = await pair(browser);
  await recordNotifications(aliceContext);
  await alicePage.goto("/profile");
  const toggle = alicePage.getByLabel("Enable desktop notifications");
  // Allowed by the browser: on, in open tabs at least. This browser has no
  // push subscription (none was made in it), and the page says what that means.
  await expect(toggle).toBeChecked({ timeout: 30_000 });
  const tabsOnly = alicePage.getByText("On while a Hearth tab is open; with Hearth closed this browser is not set up for them.");
  await expect(tabsOnly).toBeVisible();
  await toggle.uncheck();
  await expect(toggle).not.toBeChecked();
  await expect(toggle).toBeEnabled();
  await expect(tabsOnly).toHaveCount(0);

  await alicePage.goto("/");
  await expect(alicePage.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  await hideTab(alicePage);
  await postMessage(bobContext.request, direct, "you asked for quiet");
  await expect(alicePage.locator(`.room-link[data-room-id="${direct}"] .room-preview`)).toHaveText("you asked for quiet");
  await alicePage.waitForTimeout(500);
  expect(await shown(alicePage)).toEqual([]);

  // On again (the same browser, after a reload): they show.
  await alicePage.goto("/profile");
  await expect(toggle).not.toBeChecked({ timeout: 30_000 });
  await toggle.check();
  await expect(toggle).toBeChecked();
  await alicePage.goto("/");
  await expect(alicePage.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  await hideTab(alicePage);
  await postMessage(bobContext.request, direct, "and now?");
  await expect.poll(() => shown(alicePage)).toEqual([{ title: bob.name, body: "and now?", tag: `room-${direct}` }]);
  await closeAll(aliceContext, bobContext);
});

test("the bell pauses notifications in every tab, a reload keeps the pause, and Resume brings them back", async ({
  browser,
}) => {
  const { bob, room: direct, aliceContext, bobContext, alicePage } = await pair(browser);
  await recordNotifications(aliceContext);
  const otherTab = await aliceContext.newPage();
  for (const page of [alicePage, otherTab]) {
    await openHome(page);
  }
  const bell = (page: Page) => page.locator(".pause-menu summary");
  await expect(bell(alicePage)).toHaveAccessibleName("Pause notifications");

  await bell(alicePage).click();
  await alicePage.getByRole("button", { name: "For 1 hour" }).click();

  // Struck through here and, live, in the other tab; the panel says until when.
  for (const page of [alicePage, otherTab]) {
    await expect(bell(page)).toHaveAccessibleName("Notifications paused");
    await expect(bell(page)).toHaveClass(/paused/);
  }
  await expect(alicePage.locator(".pause-popover")).toBeHidden();
  const me = await (await aliceContext.request.get("/users/me")).json();
  const left = Date.parse(me.notifications_paused_until) - Date.now();
  expect(left).toBeGreaterThan(55 * 60_000);
  expect(left).toBeLessThan(61 * 60_000);
  await bell(otherTab).click();
  await expect(otherTab.locator(".pause-popover .paused-until")).toHaveText(/^Notifications are paused until .*\d\d:\d\d\.$/);
  expect(await axeViolations(otherTab)).toEqual([]);
  await otherTab.keyboard.press("Escape");
  await expect(otherTab.locator(".pause-popover")).toBeHidden();
  // A press anywhere else closes it too.
  await bell(otherTab).click();
  await expect(otherTab.locator(".pause-popover")).toBeVisible();
  await otherTab.locator("main").click({ position: { x: 5, y: 5 } });
  await expect(otherTab.locator(".pause-popover")).toBeHidden();

  // Hidden, a tab shows nothing while paused; the room list still counts.
  await hideTab(otherTab);
  await postMessage(bobContext.request, direct, "are you there?");
  await expect(otherTab.locator(`.room-link[data-room-id="${direct}"] .room-preview`)).toHaveText("are you there?");
  await otherTab.waitForTimeout(500);
  expect(await shown(otherTab)).toEqual([]);

  // A reload keeps the pause; Resume ends it everywhere.
  await alicePage.reload();
  await expect(bell(alicePage)).toHaveAccessibleName("Notifications paused");
  await expect(alicePage.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  await bell(alicePage).click();
  await alicePage.getByRole("button", { name: "Resume notifications" }).click();
  for (const page of [alicePage, otherTab]) {
    await expect(bell(page)).toHaveAccessibleName("Pause notifications");
  }
  await postMessage(bobContext.request, direct, "and now?");
  await expect.poll(() => shown(otherTab)).toEqual([{ title: bob.name, body: "and now?", tag: `room-${direct}` }]);
  await closeAll(aliceContext, bobContext);
});

test("the service worker registers at the root and the manifest is valid, with icons that load", async ({ page }) => {
  await page.goto("/login");
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(new URL("/", page.url()).href);
  const script = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  expect(script).toBe(new URL("/sw.js", page.url()).href);

  const href = await page.locator('link[rel="manifest"]').getAttribute("href");
  expect(href).toBe("/manifest.webmanifest");
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toBe("application/manifest+json");
  const manifest = await response.json();
  expect(manifest).toMatchObject({ name: "Hearth", short_name: "Hearth", start_url: "/", display: "standalone" });
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);
  const sizes = manifest.icons.map((icon: { sizes: string }) => icon.sizes);
  expect(sizes).toEqual(expect.arrayContaining(["192x192", "512x512"]));
  for (const icon of manifest.icons as { src: string; sizes: string }[]) {
    // Each icon decodes as an image of the size it claims.
    const size = await page.evaluate(async (src) => {
      const image = new Image();
      image.src = src;
      await image.decode();
      return `${image.naturalWidth}x${image.naturalHeight}`;
    }, icon.src);
    if (icon.sizes !== "any") expect(size, icon.src).toBe(icon.sizes);
  }
});

test("desktop notifications are offered once in the sidebar while the browser has not been asked", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "asked");
  const page = await context.newPage();
  await page.goto("/");
  expect(await page.evaluate(() => Notification.permission)).toBe("default");
  const offer = page.getByRole("group", { name: "Desktop notifications" });
  await expect(offer.getByRole("button", { name: "Enable desktop notifications" })).toBeVisible({ timeout: 30_000 });

  await offer.getByRole("button", { name: "Not now" }).click();

  await expect(offer).toBeHidden();
  await page.reload();
  await expect(page.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  await expect(offer).toBeHidden();
  // The switch on /profile stays, unchecked.
  await page.goto("/profile");
  await expect(page.getByLabel("Enable desktop notifications")).toBeEnabled();
  await expect(page.getByLabel("Enable desktop notifications")).not.toBeChecked();
  await context.close();
});

test("the service worker shows a pushed message, closes it on a close push up to its number", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"]);
  const page = await context.newPage();
  await page.goto("/login");
  await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state);

  // Chromium delivers a push to the registered worker as a push service
  // would (the payload is what the server encrypts; CDP hands it over
  // decrypted), so sw.js itself is what runs.
  const cdp = await context.newCDPSession(page);
  const registration = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string; isDeleted: boolean }) => !r.isDeleted && r.scopeURL === new URL("/", page.url()).href);
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  const registrationId = await registration;
  const origin = new URL(page.url()).origin;
  const push = (payload: object) =>
    cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(payload) });
  const shown = () =>
    page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })),
    );

  // Headless Chromium can lose a notification just shown: sw.js's
  // showNotification resolves, yet getNotifications never lists it (1 to 6
  // runs in 100 here, with the worker's own calls logged; a warm-up push
  // shown and closed first did not help). The same push delivered again
  // always shows (under the same tag, so that is idempotent). So a push that
  // should show something is delivered up to three times, and what shows is
  // checked as exactly what it must be; a push that should close one, once.
  const pushShown = async (payload: object, expected: object[]) => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      await push(payload);
      try {
        await expect.poll(shown, { timeout: 3_000 }).toEqual(expected);
        return;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  };

  await pushShown({ kind: "message", room_id: 7, number: 41, tag: "room-7", title: "Alice in Launch crew", body: "ship it?", url: "/rooms/7" }, [
    { title: "Alice in Launch crew", body: "ship it?", tag: "room-7", data: { url: "/rooms/7", number: 41, room_id: 7 } },
  ]);
  // A newer message in the room replaces it (same tag).
  await pushShown({ kind: "message", room_id: 7, number: 42, tag: "room-7", title: "Alice in Launch crew", body: "now?", url: "/rooms/7" }, [
    { title: "Alice in Launch crew", body: "now?", tag: "room-7", data: { url: "/rooms/7", number: 42, room_id: 7 } },
  ]);
  // Read up to 41 elsewhere: the notification shows 42, so it stays.
  await push({ kind: "close", room_id: 7, number: 41, tag: "room-7" });
  await page.waitForTimeout(500);
  expect((await shown()).map((n) => n.body)).toEqual(["now?"]);
  // Read up to 42: it goes.
  await push({ kind: "close", room_id: 7, number: 42, tag: "room-7" });
  await expect.poll(async () => (await shown()).length).toBe(0);
  // Garbage is ignored, not shown.
  await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: "not json" });
  await page.waitForTimeout(500);
  expect(await shown()).toEqual([]);
  await context.close();
});
