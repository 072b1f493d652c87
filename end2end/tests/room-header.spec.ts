import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { closeAll, createRoom, initialsOf, openLive, pair, postMessage, registerUser } from "./helpers";

// The room header's actions (issue 15): Room details, Add people and Leave,
// for group and open rooms; direct rooms offer none of them.

test("Room details in the header says what kind of room it is and who is in it", async ({ browser }) => {
  const ownerContext = await browser.newContext();
  const guestContext = await browser.newContext();
  const owner = await registerUser(ownerContext, "owner");
  const guest = await registerUser(guestContext, "guest");
  const room = await createRoom(ownerContext.request, { kind: "open", title: `Details ${Date.now()}` });
  expect((await guestContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const topic = "Where the launch is planned: dates, owners and <b>risks</b>";
  expect((await ownerContext.request.patch(`/conversations/${room}`, { data: { topic } })).status()).toBe(200);
  const page = await ownerContext.newPage();
  await openLive(page, room);
  // The topic shows under the name, as text.
  await expect(page.locator(".chat-header .topic")).toHaveText(topic);
  await expect(page.locator(".chat-header .topic b")).toHaveCount(0);
  const details = page.locator(".chat-header .room-details");
  await expect(details.locator(".room-popover")).toBeHidden();
  // The header names its members as the room does, by display name.
  await expect(page.locator(".chat-header .members .member")).toHaveText([new RegExp(owner.name), new RegExp(guest.name)]);

  await details.getByText("Room details").click();

  await expect(details.locator(".room-kind")).toHaveText(/Open room/);
  await expect(details.getByRole("heading", { name: "2 members" })).toBeVisible();
  await expect(details.locator(".room-members li")).toHaveText([new RegExp(owner.name), new RegExp(guest.name)]);
  // Each with their avatar.
  await expect(details.locator(".room-members li .avatar")).toHaveText([initialsOf(owner.name), initialsOf(guest.name)]);
  await page.locator(".chat-header .add-people").getByText("Add people").click();
  await page.locator(".chat-header").getByRole("button", { name: "Leave", exact: true }).click();
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  await closeAll(ownerContext, guestContext);
});

test("a group's creator removes someone from Room details, asked first; they lose the room at once", async ({ browser }) => {
  const ownerContext = await browser.newContext();
  const guestContext = await browser.newContext();
  const owner = await registerUser(ownerContext, "host");
  const guest = await registerUser(guestContext, "visitor");
  const room = await createRoom(ownerContext.request, { kind: "group", participant_ids: [guest.id], title: `Crew ${Date.now()}` });
  const guestPage = await guestContext.newPage();
  await guestPage.goto("/");
  await expect(guestPage.locator(`.room-link[data-room-id="${room}"]`)).toBeVisible({ timeout: 30_000 });
  const page = await ownerContext.newPage();
  await openLive(page, room);
  const details = page.locator(".chat-header .room-details");
  await details.getByText("Room details").click();
  // Not beside myself.
  await expect(details.locator(`.room-members li[data-user-id="${owner.id}"] .remove-person`)).toHaveCount(0);

  await details.getByRole("button", { name: `Remove ${guest.name}` }).click();
  await expect(details.locator(".confirm-remove")).toContainText(`Remove ${guest.name}?`);
  // The question takes focus (its opener is gone), and gives it back.
  await expect(details.locator(".confirm-remove").getByRole("button", { name: "Remove", exact: true })).toBeFocused();
  // Cancel keeps them; asked again, Remove removes them.
  await details.locator(".confirm-remove").getByRole("button", { name: "Cancel" }).click();
  await expect(details.getByRole("heading", { name: "2 members" })).toBeVisible();
  await expect(details.getByRole("button", { name: `Remove ${guest.name}` })).toBeFocused();
  await details.getByRole("button", { name: `Remove ${guest.name}` }).click();
  await details.locator(".confirm-remove").getByRole("button", { name: "Remove", exact: true }).click();

  await expect(details.getByRole("heading", { name: "1 member" })).toBeVisible();
  await expect(page.locator(".chat-header .members .member")).toHaveText([new RegExp(owner.name)]);
  await expect(guestPage.locator(`.room-link[data-room-id="${room}"]`)).toHaveCount(0);
  expect((await guestContext.request.get(`/conversations/${room}/messages`)).status()).toBe(404);
  await closeAll(ownerContext, guestContext);
});

test("the header's panels open one at a time, and Esc or a click elsewhere closes them", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "panels");
  const room = await createRoom(context.request, { kind: "open", title: `Panels ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  const details = page.locator(".chat-header .room-details");
  const adding = page.locator(".chat-header .add-people");

  await details.getByText("Room details").click();
  await expect(details.locator(".room-popover")).toBeVisible();
  // Opening the other closes the first: they no longer cover each other.
  await adding.getByText("Add people").click();
  await expect(adding.locator(".room-popover")).toBeVisible();
  await expect(details.locator(".room-popover")).toBeHidden();

  // Esc closes it, and focus goes back to what opened it.
  await page.getByLabel("Find people to add").press("Escape");
  await expect(adding.locator(".room-popover")).toBeHidden();
  await expect(adding.locator("summary")).toBeFocused();

  // A click in the messages closes it too; a click inside it does not.
  await details.getByText("Room details").click();
  await details.locator(".room-kind").click();
  await expect(details.locator(".room-popover")).toBeVisible();
  await page.locator(".messages").click({ position: { x: 10, y: 10 } });
  await expect(details.locator(".room-popover")).toBeHidden();
  await context.close();
});

test("the Leave question closes as the other panels do: on a click elsewhere, on opening another panel, and on Esc", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "asked");
  const room = await createRoom(context.request, { kind: "open", title: `Asked ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  const leave = page.locator(".chat-header").getByRole("button", { name: "Leave", exact: true });
  const confirm = page.getByRole("group", { name: "Leave this room?" });
  const details = page.locator(".chat-header .room-details");
  const adding = page.locator(".chat-header .add-people");

  // A click in the messages closes it.
  await leave.click();
  await expect(confirm).toBeVisible();
  await page.locator(".messages").click({ position: { x: 10, y: 10 } });
  await expect(confirm).toHaveCount(0);
  await expect(leave).toHaveAttribute("aria-expanded", "false");

  // Opening Room details or Add people closes it, so it covers neither.
  await leave.click();
  await expect(confirm).toBeVisible();
  await details.getByText("Room details").click();
  await expect(details.locator(".room-popover")).toBeVisible();
  await expect(confirm).toHaveCount(0);
  await leave.click();
  await expect(confirm).toBeVisible();
  await expect(details.locator(".room-popover")).toBeHidden();
  await adding.getByText("Add people").click();
  await expect(adding.locator(".room-popover")).toBeVisible();
  await expect(confirm).toHaveCount(0);

  // Opening it closes the open panel; Esc closes it, and focus goes back
  // to Leave.
  await leave.click();
  await expect(adding.locator(".room-popover")).toBeHidden();
  await confirm.getByRole("button", { name: "Cancel" }).focus();
  await page.keyboard.press("Escape");
  await expect(confirm).toHaveCount(0);
  await expect(leave).toBeFocused();
  await context.close();
});

test("Add people in the header adds someone found by name, and the room reaches them", async ({ browser }) => {
  const ownerContext = await browser.newContext();
  const friendContext = await browser.newContext();
  await registerUser(ownerContext, "host");
  const friend = await registerUser(friendContext, "friend");
  const room = await createRoom(ownerContext.request, { kind: "open", title: `Adding ${Date.now()}` });
  const page = await ownerContext.newPage();
  await openLive(page, room);

  await page.locator(".chat-header .add-people").getByText("Add people").click();
  await page.getByLabel("Find people to add").fill(friend.username);
  await expect(page.locator(".add-candidates li .avatar")).toHaveText([initialsOf(friend.name)]);
  await page.getByRole("button", { name: `Add ${friend.name}` }).click();

  await expect(page.locator(".add-people [role=status]")).toHaveText(`Added ${friend.name} to the room.`);
  await expect(page.getByRole("button", { name: `Add ${friend.name}` })).toHaveCount(0);
  // The button pressed is gone: focus is back in the search, not lost.
  await expect(page.getByLabel("Find people to add")).toBeFocused();
  const theirs = await (await friendContext.request.get("/conversations")).json();
  expect(theirs.map((r: { id: number }) => r.id)).toContain(room);
  await page.locator(".chat-header .room-details").getByText("Room details").click();
  await expect(page.locator(".room-members li")).toHaveCount(2);
  await closeAll(ownerContext, friendContext);
});

test("Leave in the header asks first, then leaves the room and goes home", async ({ browser }) => {
  const ownerContext = await browser.newContext();
  const leaverContext = await browser.newContext();
  await registerUser(ownerContext, "stayer");
  await registerUser(leaverContext, "leaver");
  const room = await createRoom(ownerContext.request, { kind: "open", title: `Leaving ${Date.now()}` });
  expect((await leaverContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const page = await leaverContext.newPage();
  await openLive(page, room);
  const leave = page.locator(".chat-header").getByRole("button", { name: "Leave", exact: true });
  const confirm = page.getByRole("group", { name: "Leave this room?" });

  // Cancel keeps you in.
  await leave.click();
  await expect(confirm.getByRole("button", { name: "Leave", exact: true })).toBeFocused();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(leave).toBeFocused();
  // So does Esc.
  await leave.click();
  await expect(confirm.getByRole("button", { name: "Leave", exact: true })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(confirm).toHaveCount(0);
  await expect(leave).toBeFocused();
  await expect(page.locator(`.room-link[data-room-id="${room}"]`)).toBeVisible();

  await leave.click();
  await confirm.getByRole("button", { name: "Leave", exact: true }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator(`.room-link[data-room-id="${room}"]`)).toHaveCount(0);
  const mine = await (await leaverContext.request.get("/conversations")).json();
  expect(mine.map((r: { id: number }) => r.id)).not.toContain(room);
  await closeAll(ownerContext, leaverContext);
});

test("a direct room offers no room actions in its header", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  await openLive(alicePage, room);
  await expect(alicePage.locator(".chat-header h1")).toBeVisible();
  await expect(alicePage.locator(".chat-header .room-menu")).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test("the room's creator renames it, sets its topic and archives it from Room details; a member sees each change and is offered none", async ({
  browser,
}) => {
  const ownerContext = await browser.newContext();
  const memberContext = await browser.newContext();
  await registerUser(ownerContext, "founder");
  await registerUser(memberContext, "joiner");
  const stamp = Date.now();
  const room = await createRoom(ownerContext.request, { kind: "open", title: `Settings ${stamp}` });
  expect((await memberContext.request.post(`/conversations/${room}/join`)).status()).toBe(200);
  const owner = await ownerContext.newPage();
  const member = await memberContext.newPage();
  await openLive(owner, room);
  await openLive(member, room);

  // A member who did not create it is offered no settings.
  await member.locator(".chat-header .room-details").getByText("Room details").click();
  await expect(member.locator(".room-details .room-kind")).toBeVisible();
  await expect(member.locator(".room-settings")).toHaveCount(0);
  await expect(member.getByRole("button", { name: "Archive this room…" })).toHaveCount(0);

  // Its creator renames it and sets its topic.
  const details = owner.locator(".chat-header .room-details");
  await details.getByText("Room details").click();
  await details.getByLabel("Name").fill(`Launch crew ${stamp}`);
  await details.getByLabel("Topic (optional)").fill("Ship it on Friday");
  await details.getByRole("button", { name: "Save" }).click();
  await expect(details.locator(".room-settings [role=status]")).toHaveText("Saved.");
  await expect(owner.locator(".chat-header h1")).toHaveText(`Launch crew ${stamp}`);
  await expect(owner.locator(".chat-header .topic")).toHaveText("Ship it on Friday");
  // The member's room list and open room hear of it live; the API says so too.
  await expect(member.locator(`.sidebar a[href="/rooms/${room}"]`)).toContainText(`Launch crew ${stamp}`);
  await expect(member.locator(".chat-header h1")).toHaveText(`Launch crew ${stamp}`);
  await expect(member.locator(".chat-header .topic")).toHaveText("Ship it on Friday");
  // Room details shows the whole topic to every member (the header cuts it to a line).
  const memberDetails = member.locator(".chat-header details.room-details");
  if (!(await memberDetails.evaluate((d: HTMLDetailsElement) => d.open))) await memberDetails.getByText("Room details").click();
  await expect(member.locator(".room-details .room-topic")).toBeVisible();
  await expect(member.locator(".room-details .room-topic")).toHaveText("Ship it on Friday");
  // A topic cleared goes from the member's header too.
  await details.getByLabel("Topic (optional)").fill("");
  await details.getByRole("button", { name: "Save" }).click();
  await expect(owner.locator(".chat-header .topic")).toHaveCount(0);
  await expect(member.locator(".chat-header .topic")).toHaveCount(0);
  await details.getByLabel("Topic (optional)").fill("Ship it on Friday");
  await details.getByRole("button", { name: "Save" }).click();
  await expect(member.locator(".chat-header .topic")).toHaveText("Ship it on Friday");
  const seen = await (await memberContext.request.get(`/conversations/${room}`)).json();
  expect([seen.conversation.title, seen.conversation.topic]).toEqual([`Launch crew ${stamp}`, "Ship it on Friday"]);

  // Archived, after asking: read-only for both, at once.
  // Asked, the answer takes focus; Cancel gives it back to the button.
  await details.getByRole("button", { name: "Archive this room…" }).click();
  await expect(details.getByText("Archive it for everyone?")).toBeVisible();
  await expect(details.getByRole("button", { name: "Archive", exact: true })).toBeFocused();
  await details.getByRole("button", { name: "Cancel" }).click();
  await expect(details.getByText("Archive it for everyone?")).toHaveCount(0);
  await expect(details.getByRole("button", { name: "Archive this room…" })).toBeFocused();
  await details.getByRole("button", { name: "Archive this room…" }).click();
  await details.getByRole("button", { name: "Archive", exact: true }).click();
  for (const page of [owner, member]) {
    await expect(page.locator(".archived-note")).toBeVisible();
    await expect(page.getByLabel("Message", { exact: true })).toHaveCount(0);
  }
  await expect(owner.locator(".room-settings")).toHaveCount(0);
  await closeAll(ownerContext, memberContext);
});

test("a group made without a title is called by its other members' names in the header, the sidebar and the tab", async ({
  browser,
}) => {
  const context = await browser.newContext();
  await registerUser(context, "namer");
  const others = [];
  for (const prefix of ["ann", "ben"]) {
    const theirs = await browser.newContext();
    others.push(await registerUser(theirs, prefix));
    await theirs.close();
  }
  const room = await createRoom(context.request, { participant_ids: others.map((o) => o.id) });
  const titled = await createRoom(context.request, { participant_ids: others.map((o) => o.id), title: "Book club" });
  const page = await context.newPage();
  await openLive(page, room);
  const name = `${others[0].name} and ${others[1].name}`;
  await expect(page.locator(".chat-header h1")).toHaveText(name);
  await expect(page.locator(`.sidebar a[href="/rooms/${room}"]`)).toContainText(name);
  await expect.poll(() => page.title()).toBe(`${name} · Hearth`);
  await expect(page.getByLabel("Message", { exact: true })).toHaveAttribute("placeholder", `Message ${name}`);
  // A titled group keeps its title.
  await openLive(page, titled);
  await expect(page.locator(".chat-header h1")).toHaveText("Book club");
  await context.close();
});

test("someone added or leaving shows at once in another member's open header, its name and the composer's mentions", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const me = await registerUser(context, "watcher");
  const people = [];
  const contexts = [];
  for (const prefix of ["amy", "bo", "cy"]) {
    const theirs = await browser.newContext();
    people.push(await registerUser(theirs, prefix));
    contexts.push(theirs);
  }
  const [amy, bo, cy] = people;
  const room = await createRoom(contexts[0].request, { participant_ids: [me.id, bo.id] });
  const page = await context.newPage();
  await openLive(page, room);
  const header = page.locator(".chat-header");
  await expect(header.locator("h1")).toHaveText(`${amy.name} and ${bo.name}`);

  const added = await contexts[0].request.post(`/conversations/${room}/participants`, { data: { user_ids: [cy.id] } });
  expect(added.status()).toBe(200);

  await expect(header.locator(".members .member")).toHaveCount(4);
  await expect(header.locator(".members")).toContainText(cy.name);
  await expect(header.locator("h1")).toHaveText(`${amy.name}, ${bo.name} and ${cy.name}`);
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill(`@${cy.username.slice(0, 3)}`);
  await expect(page.getByRole("option", { name: new RegExp(cy.name) })).toBeVisible();
  await composer.fill("");

  const left = await contexts[1].request.delete(`/conversations/${room}/participants/${bo.id}`);
  expect(left.status()).toBe(204);
  await expect(header.locator(".members .member")).toHaveCount(3);
  await expect(header.locator("h1")).toHaveText(`${amy.name} and ${cy.name}`);
  await closeAll(context, ...contexts);
});

test("a member removed while the room is open is told so, and the room takes nothing more from them", async ({ browser }) => {
  const owner = await browser.newContext();
  const member = await browser.newContext();
  const other = await browser.newContext();
  await registerUser(owner, "owner");
  const them = await registerUser(member, "removed");
  const third = await registerUser(other, "third");
  const room = await createRoom(owner.request, { participant_ids: [them.id, third.id], title: `Crew ${Date.now()}` });
  const page = await member.newPage();
  await openLive(page, room);
  await expect(page.getByLabel("Message", { exact: true })).toBeVisible();
  await expect(page.locator(".room-menu")).toHaveCount(1);

  expect((await owner.request.delete(`/conversations/${room}/participants/${them.id}`)).status()).toBe(204);

  await expect(page.getByRole("status").filter({ hasText: "You are no longer a member of this room" })).toBeVisible();
  await expect(page.getByLabel("Message", { exact: true })).toHaveCount(0);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "false");
  // Nothing left to manage: no Room details, Add people or Leave.
  await expect(page.locator(".room-menu")).toHaveCount(0);
  await closeAll(owner, member, other);
});

test("someone who left an open room from another tab is pointed back to join it, and joins", async ({ browser }) => {
  const owner = await browser.newContext();
  const member = await browser.newContext();
  await registerUser(owner, "opener");
  await registerUser(member, "rejoiner");
  const title = `Open house ${Date.now()}`;
  const room = await createRoom(owner.request, { kind: "open", title });
  expect((await member.request.post(`/conversations/${room}/join`)).status()).toBeLessThan(300);
  const page = await member.newPage();
  await openLive(page, room);

  // Left elsewhere (another tab, the API).
  expect((await member.request.delete(`/conversations/${room}/membership`)).status()).toBe(204);

  const note = page.getByRole("status").filter({ hasText: "You are no longer a member of this room" });
  await expect(note).toBeVisible();
  await note.getByRole("link", { name: "Join it again from Open rooms" }).click();
  await expect(page).toHaveURL(/\/browse$/);
  await page.getByRole("button", { name: `Join ${title}` }).click();
  // Joining opens the room, a member again.
  await expect(page).toHaveURL(new RegExp(`/rooms/${room}$`));
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.getByLabel("Message", { exact: true })).toBeVisible();

  // An open room that is not mine offers to join it, there and then.
  const stranger = await browser.newContext();
  await registerUser(stranger, "stranger");
  const lost = await stranger.newPage();
  await lost.goto(`/rooms/${room}`);
  await expect(lost.getByRole("heading", { name: "Conversation not found" })).toBeVisible();
  await expect(lost.getByRole("button", { name: `Join ${title}` })).toBeVisible();
  await closeAll(owner, member, stranger);
});

test("a rename shows live on the renamed person's messages, in the room header and in the sidebar, and in their own other tab's header", async ({ browser }) => {
  const { room, alice, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await postMessage(aliceContext.request, room, "before the rename");
  await openLive(bobPage, room);
  await openLive(alicePage, room);
  await alicePage.getByLabel("Message", { exact: true }).fill("a draft kept");
  const byline = bobPage.locator("article.message .author").first();
  await expect(byline).toHaveText(alice.name);
  await expect(alicePage.locator(".whoami")).toHaveText(alice.name);

  const renamed = `Renamed ${Date.now()}`;
  const response = await aliceContext.request.put("/users/me", { data: { user: { name: renamed } } });
  expect(response.status()).toBe(200);

  await expect(byline).toHaveText(renamed);
  await expect(bobPage.locator(".chat-header h1")).toHaveText(renamed);
  await expect(bobPage.locator(`.room-link[data-room-id="${room}"] .room-title`)).toContainText(renamed);
  // Alice's open tab shows her new name without a reload, and the page
  // around it is not drawn again (the draft is still in the composer).
  await expect(alicePage.locator(".whoami")).toHaveText(renamed);
  await expect(alicePage.getByLabel("Message", { exact: true })).toHaveValue("a draft kept");
  await closeAll(aliceContext, bobContext);
});

test("right-to-left names in the member row each stay beside their own avatar", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "owner");
  const others = await browser.newContext();
  const ids: number[] = [];
  for (const name of ["רחל כהן", "أميرة الحسن"]) {
    const user = await registerUser(others, "rtl");
    const me = await others.request.put("/users/me", { data: { name } });
    expect(me.status()).toBe(200);
    ids.push(user.id);
    await others.clearCookies();
  }
  const room = await createRoom(context.request, { kind: "group", participant_ids: ids, title: `Bidi ${Date.now()}` });
  const page = await context.newPage();
  await page.goto(`/rooms/${room}`);
  const members = page.locator(".chat-header .members .member");
  await expect(members).toHaveCount(3, { timeout: 30_000 });
  for (const id of ids) {
    const member = page.locator(`.chat-header .members .member[data-user-id="${id}"]`);
    const avatar = (await member.locator(".avatar").boundingBox())!;
    const name = (await member.locator("bdi").boundingBox())!;
    // The avatar ends where its name starts (a few pixels of gap), not next to someone else's.
    expect(name.x - (avatar.x + avatar.width)).toBeGreaterThanOrEqual(-1);
    expect(name.x - (avatar.x + avatar.width)).toBeLessThan(12);
  }
  await context.close();
  await others.close();
});

test("in a room of many members the header keeps the messages on screen, reading them marks them read, and @everyone is said to reach no one", async ({ browser }) => {
  const crowd = await browser.newContext();
  const owner = await registerUser(crowd, "host");
  const room = await createRoom(crowd.request, { kind: "open", title: `Crowded ${Date.now()}` });
  // Fifty more members (the header lists them all).
  for (let i = 0; i < 50; i++) {
    await registerUser(crowd, `crowd${i}`);
    expect((await crowd.request.post(`/conversations/${room}/join`)).status()).toBe(200);
    await postMessage(crowd.request, room, `hello from member ${i}`);
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.request.post("/users/sign_in", { data: { user: { login: owner.username, password: "secret123" } } });
  const page = await context.newPage();
  await openLive(page, room);
  const header = (await page.locator(".chat-header").boundingBox())!;
  const messages = (await page.locator(".messages").boundingBox())!;
  // Two lines of members at most, however many (it was 243 px with forty,
  // and all of the window with three hundred).
  expect(header.height, "the header").toBeLessThan(200);
  expect(messages.height, "the history's share of 800 pixels").toBeGreaterThan(400);
  // It opens at the first unread, on screen, and what is on screen is read.
  await expect(page.locator("article.message", { hasText: "hello from member 0" })).toBeInViewport();
  await expect
    .poll(async () => (await (await context.request.get("/conversations")).json()).find((r: { id: number }) => r.id === room).unread_count)
    .toBeLessThan(50);
  // Over 50 members @everyone notifies no one: the composer says so as it is typed.
  const note = page.getByText("@everyone and @here notify no one in a room of more than 50 people.");
  await expect(note).toBeHidden();
  await page.getByLabel("Message", { exact: true }).fill("@everyone the build is green");
  await expect(note).toBeVisible();
  await closeAll(crowd, context);
});
