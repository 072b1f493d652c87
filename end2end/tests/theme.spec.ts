import { expect, test, type Page } from "./fixtures";
import { registerUser } from "./helpers";

/** The page's background, as "dark" or "light" by its mean channel value. */
async function shade(page: Page): Promise<"dark" | "light"> {
  const rgb = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
  return (r + g + b) / 3 < 100 ? "dark" : "light";
}

const toggle = (page: Page) => page.getByRole("button", { name: "Dark theme" });

/** Waits until the toggle has hydrated (it then says whether dark is on), and flips it. */
async function flip(page: Page, from: "dark" | "light") {
  await expect(toggle(page)).toHaveAttribute("aria-pressed", from === "dark" ? "true" : "false", { timeout: 45_000 });
  await toggle(page).click();
  await expect(toggle(page)).toHaveAttribute("aria-pressed", from === "dark" ? "false" : "true");
}

/** Reloads with the page's script replaced by one that does nothing: what shows now came from the server. */
async function reloadWithoutScripts(page: Page) {
  // The page's script is a stub that does nothing, so the page stays as
  // the server drew it. (Aborting its fetch instead left an uncaught
  // rejection, a page failure to the fixture, or, when the page asked only
  // after the route was gone, a page that hydrated after all: it asks when
  // idle, within 2 s.) The route stays until the page has asked.
  let asked!: () => void;
  const fetched = new Promise<void>((done) => (asked = done));
  await page.route(/\/pkg\/.*\.js$/, (route) => {
    asked();
    return route.fulfill({
      status: 200,
      contentType: "text/javascript",
      body: "export default async function init() {}\nexport function hydrate() {}\n",
    });
  });
  await page.reload();
  await fetched;
  await page.unroute(/\/pkg\/.*\.js$/);
}

test.describe("with the system in dark mode", () => {
  test.use({ colorScheme: "dark" });

  test("signed-out pages are dark, and a light pick survives reloads, navigation and pages without scripts", async ({ page }) => {
    await page.goto("/login");
    expect(await shade(page)).toBe("dark");
    await flip(page, "dark");
    expect(await shade(page)).toBe("light");

    await page.reload();
    expect(await shade(page)).toBe("light");
    await page.getByRole("link", { name: "Create an account" }).click();
    await expect(page).toHaveURL(/\/register$/);
    expect(await shade(page)).toBe("light");
    await page.goto("/register");
    expect(await shade(page)).toBe("light");
    await reloadWithoutScripts(page);
    expect(await shade(page)).toBe("light");

    // And back to dark, which is remembered as well.
    await page.reload();
    await flip(page, "light");
    expect(await shade(page)).toBe("dark");
    await page.goto("/login");
    expect(await shade(page)).toBe("dark");
  });

  test("the server prints the picked theme on <html>, so the first paint is right", async ({ page, context, request }) => {
    // Without a pick the server leaves it to the system.
    expect(await (await request.get("/register")).text()).not.toMatch(/<html[^>]*data-theme=/);
    await page.goto("/login");
    await flip(page, "dark");
    const html = await (await context.request.get("/register")).text();
    expect(html).toMatch(/<html[^>]*data-theme="light"/);
  });

  test("signed-in pages follow the system, and the pick is kept across pages and signing out", async ({ browser }) => {
    const context = await browser.newContext({ colorScheme: "dark" });
    await registerUser(context, "theme");
    const page = await context.newPage();
    await page.goto("/people");
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
    expect(await shade(page)).toBe("dark");
    await flip(page, "dark");
    expect(await shade(page)).toBe("light");
    await page.goto("/");
    expect(await shade(page)).toBe("light");
    await reloadWithoutScripts(page);
    expect(await shade(page)).toBe("light");
    await page.goto("/profile");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    expect(await shade(page)).toBe("light");
    await context.close();
  });
});

test("with the system in light mode pages are light, and the toggle makes them dark", async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: "light" });
  const page = await context.newPage();
  await page.goto("/login");
  expect(await shade(page)).toBe("light");
  await flip(page, "light");
  expect(await shade(page)).toBe("dark");
  await reloadWithoutScripts(page);
  expect(await shade(page)).toBe("dark");
  // Text stays readable: the ink is light on the dark page.
  const ink = await page.evaluate(() => getComputedStyle(document.body).color);
  const mean = ink.match(/\d+/g)!.slice(0, 3).map(Number).reduce((a, b) => a + b) / 3;
  expect(mean).toBeGreaterThan(180);
  await context.close();
});
