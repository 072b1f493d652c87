import { expect, test } from "./fixtures";
import { registerUser, whenHydrated } from "./helpers";

/** Waits until the login page has hydrated: the demo picker fills the form. */
async function loginHydrated(page: import("@playwright/test").Page) {
  await whenHydrated(
    () => page.getByRole("button", { name: "Bob Builder" }).click(),
    () => expect(page.getByLabel("Email or username")).toHaveValue("bob@example.com", { timeout: 1000 }),
  );
}

test("the login and register pages open no WebSocket and show no offline banner", async ({ page }) => {
  const sockets: string[] = [];
  page.on("websocket", (socket) => sockets.push(socket.url()));

  await page.goto("/login");
  await loginHydrated(page);
  await page.waitForTimeout(3_000);
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/register$/);
  await page.waitForTimeout(3_000);

  expect(sockets).toEqual([]);
  await expect(page.locator(".offline-banner")).toHaveCount(0);
  await expect(page.locator(".layout")).not.toHaveAttribute("data-link", "offline");
});

test("signing out closes the socket for good: no retries and no offline banner", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "leaver");
  const page = await context.newPage();
  const sockets: string[] = [];
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await page.goto("/");
  await expect(page.locator(".layout")).toHaveAttribute("data-link", "online", { timeout: 30_000 });
  const before = sockets.length;

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.waitForTimeout(6_000);

  expect(sockets.length).toBe(before);
  await expect(page.locator(".offline-banner")).toHaveCount(0);
  await context.close();
});
