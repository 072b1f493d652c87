import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, signIn } from "./helpers";

// axe-core (WCAG 2.1 A and AA rules) on the pages people spend their time
// on, in the light and the dark theme: no violations at all, contrast
// included (issue 15).
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`,
  );
}

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`in the ${colorScheme} theme`, () => {
    test.use({ colorScheme });

    test("the login and registration pages have no accessibility violations", async ({ page }) => {
      await page.goto("/login");
      await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
      expect(await violations(page)).toEqual([]);
      await page.goto("/register");
      expect(await violations(page)).toEqual([]);
    });

    test("the admin page has no accessibility violations", async ({ page }) => {
      await signIn(page, "alice@example.com", "secret123");
      await expect(page.locator(".whoami")).toHaveText("Alice Liddell");
      await page.goto("/admin");
      await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
      expect(await violations(page)).toEqual([]);
    });

    test("a room with messages has no accessibility violations", async ({ browser }) => {
      const context = await browser.newContext({ colorScheme });
      await registerUser(context, "reader");
      const room = await createRoom(context.request, { kind: "open", title: `Accessible ${Date.now()}` });
      await postMessage(context.request, room, "Hello, with a [link](https://example.com) and `code`");
      await postMessage(context.request, room, "A second message");
      // Highlighted code (keywords, strings, comments, numbers) on its own
      // background, and code inside a link.
      await postMessage(
        context.request,
        room,
        '```rust\n// a comment\nfn main() { let n = 42; println!("a string {n}"); }\n```\nSee [`cargo run`](https://example.com)',
      );
      const page = await context.newPage();
      await openLive(page, room);
      await expect(page.locator("article.message")).toHaveCount(3);
      for (const kind of ["k", "s", "c", "n"]) await expect(page.locator(`pre .hl-${kind}`).first()).toBeVisible();
      expect(await violations(page)).toEqual([]);
      await context.close();
    });

    test("on a phone, the room list and a room have no accessibility violations", async ({ browser }) => {
      const context = await browser.newContext({ colorScheme, viewport: { width: 375, height: 667 } });
      await registerUser(context, "pocket");
      const room = await createRoom(context.request, { kind: "open", title: `Pocket ${Date.now()}` });
      await postMessage(context.request, room, "Small screen, same **rules**");
      const page = await context.newPage();
      await page.goto("/");
      await expect(page.locator(`.sidebar a[href="/rooms/${room}"]`)).toBeVisible();
      expect(await violations(page)).toEqual([]);
      await openLive(page, room);
      await expect(page.locator("article.message")).toHaveCount(1);
      expect(await violations(page)).toEqual([]);
      await context.close();
    });

    test("every other page, signed out and signed in, has no accessibility violations", async ({ browser }) => {
      const context = await browser.newContext({ colorScheme });
      const page = await context.newPage();
      for (const path of ["/forgot-password", "/reset-password?token=not-a-token", "/no-such-page"]) {
        await page.goto(path);
        await expect(page.locator("h1").first()).toBeVisible();
        expect(await violations(page), path).toEqual([]);
      }
      await registerUser(context, "visitor");
      const room = await createRoom(context.request, { kind: "open", title: `Visited ${Date.now()}` });
      await postMessage(context.request, room, "findable words");
      for (const path of ["/", "/profile", "/people", "/browse", "/find?q=findable"]) {
        await page.goto(path);
        await expect(page.locator(".sidebar")).toBeVisible();
        expect(await violations(page), path).toEqual([]);
      }
      await context.close();
    });
  });
}

test("a skip link leads past the top bar, presence is said in words, and new messages are announced politely", async ({
  browser,
}) => {
  const { bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await alicePage.goto("/");
  await expect(alicePage.locator(".welcome")).toBeVisible();

  // The first Tab reaches the skip link, which moves focus to the content.
  await alicePage.keyboard.press("Tab");
  const skip = alicePage.getByRole("link", { name: "Skip to the content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await alicePage.keyboard.press("Enter");
  await expect(alicePage.locator("main#main")).toBeFocused();
  await openLive(alicePage, room);

  // Bob offline, then online: the words follow the dot.
  const presence = alicePage.locator(`.member[data-user-id="${bob.id}"] .presence`);
  await expect(presence).toHaveText("(offline)");
  await openLive(bobPage, room);
  await expect(presence).toHaveText("(online)");

  // Bob's message is announced once, in a polite status region; the history
  // itself is not a live region.
  const announcer = alicePage.locator(".announcer");
  await expect(announcer).toHaveAttribute("aria-live", "polite");
  await expect(announcer).toHaveText("");
  await postMessage(bobContext.request, room, "lunch at noon?");
  await expect(announcer).toHaveText(`${bob.name}: lunch at noon?`);
  // It is read as it shows, without its Markdown's markup.
  await postMessage(bobContext.request, room, "**lunch** at `12:00`, [the place](https://example.com/cafe)");
  await expect(announcer).toHaveText(`${bob.name}: lunch at 12:00, the place`);
  await expect(alicePage.locator(".messages")).not.toHaveAttribute("aria-live", /.+/);
  await closeAll(aliceContext, bobContext);
});

test("a form's errors are tied to their fields, and focus moves to the first field to fix", async ({ page }) => {
  await page.goto("/register");
  await page.getByLabel("Email").fill(`taken${Date.now()}@example.com`);
  // The demo's alice has this username already.
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill("secret123");
  const username = page.getByLabel("Username");
  await expect(username).not.toHaveAttribute("aria-invalid", /.*/);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(username).toHaveAttribute("aria-describedby", "username-errors");
  await expect(page.locator("#username-errors")).toContainText(/taken/i);
  await expect(username).toBeFocused();
  // Its description is the error, as a screen reader hears it.
  await expect(username).toHaveAccessibleDescription(/taken/i);
  await expect(page.getByLabel("Email")).not.toHaveAttribute("aria-invalid", /.*/);
});

test("a move to another page inside the app puts focus on its heading, where a screen reader starts", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage: page } = await pair(browser);
  await openLive(page, room);
  await page.getByRole("link", { name: "Open rooms" }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/browse$/);
  await expect(page.getByRole("heading", { level: 1, name: "Open rooms" })).toBeFocused();
  await page.getByRole("link", { name: "New message" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Start a conversation" })).toBeFocused();
  // The profile, from the top bar.
  await page.locator("header .whoami").click();
  await expect(page.getByRole("heading", { level: 1, name: "Your profile" })).toBeFocused();
  // A room takes focus in its composer instead.
  await page.locator(`.room-link[data-room-id="${room}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.getByLabel("Message", { exact: true })).toBeFocused();
  await closeAll(aliceContext, bobContext);
});
