import { expect, test, type Browser, type Page } from "./fixtures";
import { createRoom, openLive, registerUser, send, trackPageErrors, whenHydrated } from "./helpers";

/**
 * Records every Content-Security-Policy violation the page reports, through
 * the `securitypolicyviolation` event (on `window.__cspViolations`) and
 * through the console, where Chromium also logs the ones it blocks.
 */
async function watchCsp(page: Page) {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) consoleErrors.push(message.text());
  });
  return {
    violations: () => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations),
    consoleErrors,
  };
}

async function expectNoViolations(page: Page, csp: Awaited<ReturnType<typeof watchCsp>>) {
  expect(await csp.violations()).toEqual([]);
  expect(csp.consoleErrors).toEqual([]);
}

/** The page's policy, checked for the shape the server promises. */
function checkPolicy(header: string | undefined) {
  expect(header).toBeDefined();
  const policy = header!;
  expect(policy).toMatch(/script-src [^;]*'nonce-[A-Za-z0-9_-]{16,}'/);
  expect(policy).toContain("'wasm-unsafe-eval'");
  expect(policy).toContain("connect-src 'self'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain("unsafe-inline");
  expect(policy).not.toContain("'unsafe-eval'");
}

test("the login page hydrates under its Content-Security-Policy with no violation", async ({ page }) => {
  const csp = await watchCsp(page);
  const errors = trackPageErrors(page);

  const response = await page.goto("/login");
  checkPolicy(response?.headers()["content-security-policy"]);
  // Clicking a demo account fills the form only once the WASM is running.
  await whenHydrated(
    () => page.getByRole("button", { name: "Bob Builder" }).click(),
    () => expect(page.getByLabel("Email or username")).toHaveValue("bob@example.com", { timeout: 1000 }),
  );

  await expectNoViolations(page, csp);
  expect(errors).toEqual([]);
});

/** Opens the room live, checking the policy its page came with. */
async function openLiveChecked(page: Page, room: number) {
  checkPolicy((await openLive(page, room))?.headers()["content-security-policy"]);
}

async function person(browser: Browser, prefix: string) {
  const context = await browser.newContext();
  const user = await registerUser(context, prefix);
  const page = await context.newPage();
  return { user, context, page, csp: await watchCsp(page) };
}

test("two people chat live over the WebSocket under the policy with no violation", async ({ browser }) => {
  const alice = await person(browser, "alice");
  const bob = await person(browser, "bob");
  const room = await createRoom(alice.context.request, { participant_ids: [bob.user.id] });
  await openLiveChecked(bob.page, room);
  await openLiveChecked(alice.page, room);

  await send(alice.page, "Hi Bob, under CSP");
  await expect(bob.page.locator("article.message .body")).toHaveText(["Hi Bob, under CSP"]);
  await send(bob.page, "Hi Alice, no violations here");
  await expect(alice.page.locator("article.message .body")).toHaveText([
    "Hi Bob, under CSP",
    "Hi Alice, no violations here",
  ]);

  await expectNoViolations(alice.page, alice.csp);
  await expectNoViolations(bob.page, bob.csp);
  await alice.context.close();
  await bob.context.close();
});

test("an injected inline script without the nonce is blocked and reported", async ({ page }) => {
  const csp = await watchCsp(page);
  await page.goto("/login");

  const ran = await page.evaluate(async () => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.head.appendChild(script);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (window as unknown as { __injected?: boolean }).__injected ?? false;
  });

  expect(ran).toBe(false);
  await expect.poll(() => csp.violations()).toEqual([expect.stringContaining("script-src-elem blocked inline")]);
});
