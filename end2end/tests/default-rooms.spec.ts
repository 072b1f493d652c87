import { expect, test } from "./fixtures";
import { closeAll, createRoom, postMessage, signIn, uniqueName } from "./helpers";

// The rooms every new account joins. global-setup.ts takes the demo's
// General off the list (the other specs expect new people in no room); this
// test adds a room of its own from the admin page and takes it off again.

test("an admin picks a room every new account joins: someone who registers starts in it, and after Remove nobody new does", async ({
  browser,
}) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, "alice@example.com", "secret123");
  await expect(admin.locator(".whoami")).toHaveText("Alice Liddell");
  const title = `Welcome ${uniqueName("w")}`;
  const room = await createRoom(adminContext.request, { kind: "open", title });
  await postMessage(adminContext.request, room, "Hello and welcome, new people!");
  try {
    await admin.goto("/admin");
    const section = admin.getByRole("region", { name: "Rooms new accounts join" });
    await expect(section).toContainText("None: a new account starts in no room.");
    await expect(admin.locator(".theme-toggle[aria-pressed]")).toHaveCount(1, { timeout: 45_000 });
    await section.getByLabel("Add an open room").selectOption({ label: title });
    await section.getByRole("button", { name: "Add room" }).click();
    await expect(section.getByRole("link", { name: title })).toBeVisible();
    await expect(section).toContainText("1 member");

    // Someone registers on the sign-up page: the room is in their sidebar.
    const newContext = await browser.newContext();
    const newcomer = await newContext.newPage();
    const username = uniqueName("new");
    await newcomer.goto("/register");
    await newcomer.getByLabel("Email").fill(`${username}@example.com`);
    await newcomer.getByLabel("Username").fill(username);
    await newcomer.getByLabel("Password").fill("secret123");
    await newcomer.getByRole("button", { name: "Create account" }).click();
    const link = newcomer.locator(`.room-link[data-room-id="${room}"]`);
    await expect(link).toContainText(title);
    // In a room, but new: welcomed, not welcomed back.
    await expect(newcomer.getByRole("heading", { level: 1 })).toHaveText(/^Welcome, /);
    await link.click();
    await expect(newcomer.locator("article.message .body")).toHaveText(["Hello and welcome, new people!"]);
    // Once they have read something, they are welcomed back.
    await expect.poll(async () => (await (await newContext.request.get("/conversations")).json())[0].unread_count).toBe(0);
    await newcomer.goto("/");
    await expect(newcomer.getByRole("heading", { level: 1 })).toHaveText(/^Welcome back, /);

    // Removed: the newcomer stays; the next account starts in no room.
    await admin.reload();
    await expect(section).toContainText("2 members");
    await expect(admin.locator(".theme-toggle[aria-pressed]")).toHaveCount(1, { timeout: 45_000 });
    await section.getByRole("button", { name: `Stop adding new accounts to ${title}` }).click();
    await expect(section).toContainText("None: a new account starts in no room.");
    const laterContext = await browser.newContext();
    const later = uniqueName("later");
    const registered = await laterContext.request.post("/users", {
      data: { user: { email: `${later}@example.com`, username: later, password: "secret123" } },
    });
    expect(registered.status()).toBe(201);
    expect(await (await laterContext.request.get("/conversations")).json()).toEqual([]);
    expect((await (await newContext.request.get("/conversations")).json()).map((r: { id: number }) => r.id)).toEqual([room]);
    await closeAll(newContext, laterContext);
  } finally {
    // Whatever happened above, no other spec's people join this room.
    await adminContext.request.delete(`/admin/default_rooms/${room}`);
    await adminContext.close();
  }
});
