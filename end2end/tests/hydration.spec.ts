import { expect, test } from "./fixtures";
import { trackPageErrors, whenHydrated } from "./helpers";

test("the login page hydrates: the demo picker fills the form", async ({ page }) => {
  const errors = trackPageErrors(page);
  await page.goto("/login");
  const login = page.getByLabel("Email or username");
  await expect(page.locator(".demo-picker")).toBeVisible();

  // Clicking a demo account only fills the form once the WASM is running.
  await whenHydrated(
    () => page.getByRole("button", { name: "Bob Builder" }).click(),
    () => expect(login).toHaveValue("bob@example.com", { timeout: 1000 }),
  );

  await expect(page.getByLabel("Password")).toHaveValue("secret123");
  expect(errors).toEqual([]);
});

test("the password hint reacts to typing (client-side validation)", async ({ page }) => {
  await page.goto("/login");
  const password = page.getByLabel("Password");
  const hint = page.locator(".password-hint");

  await whenHydrated(
    async () => {
      await password.fill("");
      await password.pressSequentially("abc");
    },
    () => expect(hint).toHaveText("Passwords have at least 8 characters (3 so far)", { timeout: 1000 }),
  );

  await password.pressSequentially("defgh");
  await expect(hint).toBeHidden();
});

test("a demo account signs in from the picker", async ({ page }) => {
  await page.goto("/login");
  await whenHydrated(
    () => page.getByRole("button", { name: "Alice Liddell" }).click(),
    () => expect(page.getByLabel("Email or username")).toHaveValue("alice@example.com", { timeout: 1000 }),
  );

  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.locator(".me-name")).toHaveText("Alice Liddell");
  await expect(page).toHaveURL(/\/$/);
});

test("text typed before the page hydrates survives hydration", async ({ page }) => {
  const errors = trackPageErrors(page);
  // Hold the WASM bundle back, as a slow connection would, and type meanwhile.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/login");
  await page.getByLabel("Email or username").fill("alice@example.com");
  await page.getByLabel("Password").fill("abc");
  release();

  // The hint only exists once the page runs; it sees what was typed.
  await expect(page.locator(".password-hint")).toContainText("(3 so far)");
  await expect(page.getByLabel("Email or username")).toHaveValue("alice@example.com");
  await expect(page.getByLabel("Password")).toHaveValue("abc");
  expect(errors).toEqual([]);
});
