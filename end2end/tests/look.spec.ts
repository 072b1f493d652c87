import { expect, test } from "./fixtures";
import { closeAll, openLive, pair, registerUser, whenHydrated } from "./helpers";

test("typed text in form fields is not bold, though the labels are", async ({ page }) => {
  await page.goto("/register");
  for (const label of ["Email", "Username", "Password"]) {
    const weight = await page.getByLabel(label).evaluate((el) => getComputedStyle(el).fontWeight);
    expect(weight, label).toBe("400");
  }
  const labelWeight = await page.locator("form label").first().evaluate((el) => getComputedStyle(el).fontWeight);
  expect(labelWeight).toBe("600");
});

test("the Group title input is styled like the other fields", async ({ browser }) => {
  const prefix = `gt${Date.now().toString(36)}`;
  for (const who of ["a", "b"]) {
    const other = await browser.newContext();
    await registerUser(other, `${prefix}${who}`);
    await other.close();
  }
  const context = await browser.newContext();
  await registerUser(context, "grouper");
  const page = await context.newPage();
  await page.goto("/people");
  await whenHydrated(
    () => page.getByLabel("Search people").fill(prefix),
    () => expect(page.locator(".person")).toHaveCount(2, { timeout: 2000 }),
  );
  await page.locator(".person .pick input").nth(0).check();
  await page.locator(".person .pick input").nth(1).check();
  const title = page.getByLabel("Group title");
  await expect(title).toBeVisible();
  const style = await title.evaluate((el) => {
    const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return { weight: s.fontWeight, paddingLeft: parseFloat(s.paddingLeft), height: box.height, width: box.width, radius: s.borderTopLeftRadius };
  });
  expect(style.weight).toBe("400");
  expect(style.paddingLeft).toBeGreaterThanOrEqual(8);
  expect(style.radius).toBe("6px");
  expect(style.height).toBeGreaterThanOrEqual(30);
  expect(style.width).toBeGreaterThanOrEqual(250);
  await context.close();
});

test("the people picker shows each person's avatar, name and @handle, left-aligned on a phone", async ({ browser }) => {
  const prefix = `pp${Date.now().toString(36)}`;
  const other = await browser.newContext();
  const shown = await registerUser(other, `${prefix}x`);
  await other.close();
  const context = await browser.newContext({ viewport: { width: 375, height: 667 } });
  await registerUser(context, "picker");
  const page = await context.newPage();
  await page.goto("/people");
  await whenHydrated(
    () => page.getByLabel("Search people").fill(prefix),
    () => expect(page.locator(".person")).toHaveCount(1, { timeout: 2000 }),
  );
  const open = page.locator(".person-open");
  await expect(open).toHaveAccessibleName(`${shown.name} @${shown.username}`);
  await expect(open.locator(".avatar")).toBeVisible();
  await expect(open.locator(".person-handle")).toHaveText(`@${shown.username}`);
  // The name and the handle start at one left edge, right of the avatar
  // (a button centres its text: wrapped names used to sit centred).
  // Measured on the text itself, not the boxes (which a column stretches).
  const textLeft = (selector: string) =>
    open.locator(selector).evaluate((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return range.getBoundingClientRect().left;
    });
  const avatar = await open.locator(".avatar").boundingBox();
  const [name, handle] = [await textLeft(".person-name"), await textLeft(".person-handle")];
  expect(Math.abs(name - handle)).toBeLessThan(1);
  expect(name).toBeGreaterThan(avatar!.x + avatar!.width);
  expect(name).toBeLessThan(avatar!.x + avatar!.width + 20);
  // Opening the room still works from the row.
  await open.click();
  await expect(page).toHaveURL(/\/rooms\/\d+$/);
  await context.close();
});

test("the logo is an SVG in the page, not an emoji added by CSS", async ({ page }) => {
  await page.goto("/login");
  const brand = page.locator(".brand");
  await expect(brand).toHaveText("Hearth");
  const before = await brand.evaluate((el) => getComputedStyle(el, "::before").content);
  expect(before).toBe("none");
  const logo = brand.locator("svg");
  await expect(logo).toBeVisible();
  const box = await logo.boundingBox();
  expect(box!.width).toBeGreaterThan(10);
});

test("the composer names the room in a placeholder that fits a phone, and its Attach icon is drawn", async ({ browser }) => {
  const { alice, room, aliceContext, bobContext, bobPage } = await pair(browser);
  await bobPage.setViewportSize({ width: 375, height: 667 });
  await openLive(bobPage, room);
  const composer = bobPage.getByLabel("Message", { exact: true });
  await expect(composer).toHaveAttribute("placeholder", `Message ${alice.name}`);
  // How to send is told to screen readers.
  await expect(composer).toHaveAccessibleDescription("Enter sends, Shift+Enter adds a new line.");
  // The placeholder's text is no wider than the box it is written in.
  const fits = await composer.evaluate((el) => {
    const area = el as HTMLTextAreaElement;
    const style = getComputedStyle(area);
    const context = document.createElement("canvas").getContext("2d")!;
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = area.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return { text: context.measureText(area.placeholder).width, room };
  });
  expect(fits.text).toBeLessThanOrEqual(fits.room);
  const attach = bobPage.locator(".composer .attach");
  await expect(attach.locator("svg.icon")).toBeVisible();
  expect(await attach.textContent()).not.toMatch(/\p{Extended_Pictographic}/u);
  await closeAll(aliceContext, bobContext);
});

test("the profile says when each session was last seen as people read it, with the full time on hover", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "seen");
  const page = await context.newPage();
  await page.goto("/profile");
  const session = page.locator("#sessions .session", { hasText: "(this device)" });
  await expect(session).toHaveCount(1);
  const seen = session.locator("time");
  await expect(seen).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  await expect(seen).toHaveText(/^Today, \d\d:\d\d$/);
  await expect(seen).toHaveAttribute("title", /^\w+day, \d{1,2} \w+ \d{4} at \d\d:\d\d:\d\d/);
  await expect(session).not.toContainText("T0");
  await context.close();
});

test("on a long page the top bar and the room list stay in view as it scrolls, and the sessions are tidy rows", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  await registerUser(context, "scroller");
  const page = await context.newPage();
  await page.goto("/profile");
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(100);

  const bar = (await page.locator(".topbar").boundingBox())!;
  expect(bar.y).toBe(0);
  const list = (await page.locator(".sidebar").boundingBox())!;
  expect(Math.round(list.y)).toBe(Math.round(bar.height));
  expect(Math.round(list.y + list.height)).toBe(600);
  // A session's End session sits on its row, beside what it names.
  const session = page.locator("#sessions .session").first();
  const [info, end] = [(await session.locator(".session-info").boundingBox())!, (await session.getByRole("button").boundingBox())!];
  expect(end.x).toBeGreaterThan(info.x + info.width);
  expect(end.y).toBeLessThan(info.y + info.height);
  // Its button is told apart from others on the same kind of device by when each was last seen.
  await expect(session.getByRole("button")).toHaveAccessibleDescription(/^Last seen Today, \d\d:\d\d$/);
  await context.close();
});

test("picking people for a group keeps the New group form in view however long the list, and it makes the group", async ({ browser }) => {
  const prefix = `crowd${Date.now().toString(36)}`;
  const others = await browser.newContext();
  const crowd = [];
  for (let i = 0; i < 7; i++) crowd.push(await registerUser(others, `${prefix}${i}`));
  await others.close();
  const context = await browser.newContext({ viewport: { width: 1280, height: 520 } });
  await registerUser(context, "grouper");
  const page = await context.newPage();
  await page.goto("/people");
  await whenHydrated(
    () => page.getByLabel("Search people").fill(prefix),
    () => expect(page.locator(".person")).toHaveCount(7, { timeout: 2000 }),
  );

  await page.getByRole("checkbox").nth(0).check();
  await page.getByRole("checkbox").nth(1).check();
  // The people picked are named as the list shows them, not by username.
  const names = await page.locator(".person .person-name").allInnerTexts();
  await expect(page.locator(".group-builder .picked")).toHaveText(`${names[0]}, ${names[1]}`);

  // The list runs past the bottom of the screen, and the form is on it.
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeGreaterThan(520);
  const builder = page.locator(".group-builder");
  await expect(builder).toBeInViewport({ ratio: 1 });
  // A title the server refuses says why, by its field (it did nothing).
  const titleField = builder.getByLabel("Group title");
  await expect(titleField).toHaveAttribute("maxlength", "100");
  await titleField.evaluate((input) => input.removeAttribute("maxlength"));
  await titleField.fill("t".repeat(150));
  await builder.getByRole("button", { name: "Create group" }).click();
  await expect(builder.locator('[data-field="title"]')).toHaveText("Title is too long (maximum is 100 characters)");
  await expect(titleField).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/people/);
  await builder.getByLabel("Group title").fill(`${prefix} crew`);
  await builder.getByRole("button", { name: "Create group" }).click();
  await expect(page).toHaveURL(/\/rooms\/\d+$/);
  await expect(page.locator(".chat-header h1")).toHaveText(`${prefix} crew`);
  await context.close();
});
