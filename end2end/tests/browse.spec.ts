import { expect, test } from "./fixtures";
import { createRoom, registerUser } from "./helpers";

// /browse: create an open room from the top of the page; the open rooms say
// what they are for (their topic) and a filter narrows a long list.

test("open rooms show their topics, a filter narrows them, and a room made from the top of the page opens", async ({
  browser,
}) => {
  const owner = await browser.newContext();
  await registerUser(owner, "host");
  const stamp = Date.now();
  const design = await createRoom(owner.request, { kind: "open", title: `Design crit ${stamp}` });
  const topic = `Weekly reviews of Figma work ${stamp}`;
  expect((await owner.request.patch(`/conversations/${design}`, { data: { topic } })).status()).toBe(200);
  for (const n of [1, 2]) await createRoom(owner.request, { kind: "open", title: `Watercooler ${n} ${stamp}` });

  const context = await browser.newContext();
  await registerUser(context, "browser");
  const page = await context.newPage();
  await page.goto("/browse");
  const row = page.locator(".open-room", { hasText: `Design crit ${stamp}` });
  await expect(row.locator(".room-topic")).toHaveText(topic);
  const filter = page.getByRole("searchbox", { name: "Filter open rooms" });
  const shown = page.locator(".open-room:not([hidden])");
  const all = await shown.count();
  expect(all).toBeGreaterThanOrEqual(3);
  await expect(page.locator("#rooms-filter-count")).toHaveText(new RegExp(`^${all} open rooms$`));

  // By topic as well as title, in any case.
  await filter.fill(`FIGMA WORK ${stamp}`);
  await expect(shown).toHaveCount(1);
  await expect(shown.first()).toContainText(`Design crit ${stamp}`);
  await expect(page.locator("#rooms-filter-count")).toHaveText(`1 of ${all}`);
  await filter.fill(`watercooler`);
  await expect(shown).toHaveCount(2);
  await filter.fill(`nothing like this ${stamp}`);
  await expect(shown).toHaveCount(0);
  await expect(page.locator("#rooms-filter-count")).toHaveText("No open room's title or topic holds that.");
  await filter.fill("");
  await expect(shown).toHaveCount(all);

  // The form comes before the list, and what it makes opens.
  const form = page.getByRole("form", { name: "Create an open room" });
  const formTop = (await form.boundingBox())!.y;
  expect(formTop).toBeLessThan((await page.locator(".open-rooms").boundingBox())!.y);
  await form.getByLabel("New open room").fill(`Book club ${stamp}`);
  await form.getByRole("button", { name: "Create room" }).click();
  await expect(page).toHaveURL(/\/rooms\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Book club ${stamp}`);
  await owner.close();
  await context.close();
});
