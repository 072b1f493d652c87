import { expect, test, type Page } from "./fixtures";
import { whenHydrated } from "./helpers";

// `next` with a tab: browsers drop tabs from URLs, so `/\t/evil.example/page`
// would become `//evil.example/page`, another host. Hearth must send the
// user home instead (issue 11, item 1).
const HOSTILE = "/login?next=%2F%09%2Fevil.example%2Fpage";

async function fillAndSubmit(page: Page) {
  await page.getByLabel("Email or username").fill("carol@example.com");
  await page.getByLabel("Password").fill("secret123");
  await page.getByRole("button", { name: "Sign in" }).click();
}

function expectHome(page: Page, baseURL: string | undefined) {
  const url = new URL(page.url());
  expect(url.host).toBe(new URL(baseURL ?? "http://127.0.0.1:3100").host);
  expect(url.pathname).toBe("/");
}

test("signing in with a hostile next stays on this site (hydrated)", async ({ page, baseURL }) => {
  await page.goto(HOSTILE);
  // The password hint only appears once the WASM runs: the sign-in below
  // goes through the server function, not a plain form post.
  await whenHydrated(
    () => page.getByLabel("Password").fill("abc"),
    () => expect(page.locator(".password-hint")).toBeVisible({ timeout: 500 }),
  );
  await fillAndSubmit(page);

  await expect(page.locator(".whoami")).toBeVisible();
  expectHome(page, baseURL);
});

test("signing in with a hostile next stays on this site (no JavaScript)", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(HOSTILE);
  await fillAndSubmit(page);

  await page.waitForLoadState("load");
  expectHome(page, baseURL);
  await expect(page.locator(".whoami")).toBeVisible();
  await context.close();
});
