import { expect, test } from "./fixtures";
import { closeAll, createRoom, openLive, pair, postMessage, registerUser, trackPageErrors } from "./helpers";

test("a code block renders highlighted, on the page and when it arrives live", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const errors = trackPageErrors(alicePage);
  await postMessage(aliceContext.request, room, "Look:\n```rust\nfn main() { let x = \"hi\"; } // done\n```");
  await openLive(alicePage, room);

  const block = alicePage.locator("article.message pre[data-lang='rust'] code");
  await expect(block).toHaveCount(1);
  await expect(block.locator(".hl-k")).toHaveText(["fn", "let"]);
  await expect(block.locator(".hl-s")).toHaveText('"hi"');
  await expect(block.locator(".hl-c")).toHaveText("// done");
  // Colour, not only classes: the keyword is styled differently from plain code.
  const keywordColour = await block.locator(".hl-k").first().evaluate((el) => getComputedStyle(el).color);
  const plainColour = await block.evaluate((el) => getComputedStyle(el).color);
  expect(keywordColour).not.toBe(plainColour);

  // Live: bob's code block, and Markdown with inert HTML, from the composer.
  await openLive(bobPage, room);
  const composer = bobPage.getByLabel("Message", { exact: true });
  await composer.fill("```python\ndef f():\n    return 1\n```");
  await composer.press("Enter");
  await expect(alicePage.locator("article.message pre[data-lang='python'] .hl-k")).toHaveText(["def", "return"]);
  await composer.fill("**bold** <img src=x onerror=alert(1)>");
  await composer.press("Enter");
  const last = alicePage.locator("article.message").last();
  await expect(last.locator(".body strong")).toHaveText("bold");
  await expect(last.locator(".body")).toContainText("<img src=x onerror=alert(1)>");
  await expect(last.locator("img")).toHaveCount(0);
  expect(errors).toEqual([]);
  await closeAll(aliceContext, bobContext);
});

test("a reaction added by bob shows on alice's screen live, with who reacted", async ({ browser }) => {
  const { bob, room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const aliceErrors = trackPageErrors(alicePage);
  const bobErrors = trackPageErrors(bobPage);
  await postMessage(aliceContext.request, room, "Lunch at noon?");
  await openLive(alicePage, room);
  await openLive(bobPage, room);

  const bobMessage = bobPage.locator("article.message").first();
  await bobMessage.hover();
  await bobMessage.getByRole("button", { name: "Add a reaction" }).click();
  await bobMessage.getByRole("button", { name: "React with 👍" }).click();

  const onAlice = alicePage.locator("article.message").first().locator("button.reaction[data-emoji='👍']");
  await expect(onAlice).toHaveText("👍 1");
  await expect(onAlice).toHaveAttribute("title", `${bob.name} reacted with 👍`);
  await expect(onAlice).toHaveAttribute("aria-label", `${bob.name} reacted with 👍`);
  await expect(onAlice).toHaveAttribute("aria-pressed", "false");

  // Alice adds hers by clicking it; bob sees two, and takes his off.
  await onAlice.click();
  await expect(onAlice).toHaveText("👍 2");
  await expect(onAlice).toHaveAttribute("aria-pressed", "true");
  const onBob = bobMessage.locator("button.reaction[data-emoji='👍']");
  await expect(onBob).toHaveText("👍 2");
  await onBob.click();
  await expect(onAlice).toHaveText("👍 1");
  // Toggling panicked nothing: both pages still run, and still chat live.
  const composer = bobPage.getByLabel("Message", { exact: true });
  await composer.fill("Noon works");
  await composer.press("Enter");
  await expect(alicePage.locator("article.message").last()).toContainText("Noon works");
  expect(aliceErrors).toEqual([]);
  expect(bobErrors).toEqual([]);
  // A reload shows what the live events showed.
  await alicePage.reload();
  await expect(alicePage.locator("button.reaction[data-emoji='👍']")).toHaveText("👍 1");
  await closeAll(aliceContext, bobContext);
});

test("a reply quotes its original and jumps to it, even far up the history", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const original = await postMessage(aliceContext.request, room, "Who has the **release checklist**?");
  for (let i = 1; i <= 60; i++) {
    await postMessage(aliceContext.request, room, i === 3 ? "`filler 3`" : `filler ${i}`);
  }
  // bob answers the far-away original through the API…
  const response = await bobContext.request.post(`/conversations/${room}/messages`, {
    data: { body: "I do, it is in the wiki", reply_to: original.number },
  });
  expect(response.status()).toBe(201);
  await openLive(alicePage, room);
  await expect(alicePage.locator(`article.message[data-number="${original.number}"]`)).toHaveCount(0);

  const quote = alicePage.locator("article.message").last().locator(".reply-quote");
  // A quote reads as its original shows, without the Markdown.
  await expect(quote).toContainText("Who has the release checklist?");
  await quote.click();
  await expect(alicePage).toHaveURL(new RegExp(`/rooms/${room}\\?around=${original.number}$`));
  const target = alicePage.locator(`article.message[data-number="${original.number}"]`);
  await expect(target).toBeInViewport();
  await expect(target).toHaveClass(/focused/);
  // Keyboard focus starts at the original, not in the composer.
  await expect(target).toBeFocused();
  await expect(target).toHaveAttribute("tabindex", "0");
  await expect(target.locator(".reply-count")).toHaveText("1 reply");

  // …and alice answers a nearby one from the composer; its quote jumps in
  // place. (bob has read the room, so it opens for him at its newest,
  // where her answer arrives.)
  expect((await bobContext.request.put(`/conversations/${room}/read`)).status()).toBe(200);
  await openLive(bobPage, room);
  const filler = alicePage.locator("article.message", { hasText: "filler 3" }).first();
  await filler.hover();
  await filler.getByRole("button", { name: "Reply" }).click();
  await expect(alicePage.locator(".composer .replying")).toContainText("filler 3");
  await expect(alicePage.locator(".composer .replying")).not.toContainText("`");
  const composer = alicePage.getByLabel("Message", { exact: true });
  // Cancelled by keyboard, focus goes back to the text; then the reply again.
  await alicePage.getByRole("button", { name: "Cancel the reply" }).focus();
  await alicePage.keyboard.press("Enter");
  await expect(alicePage.locator(".composer .replying")).toHaveCount(0);
  await expect(composer).toBeFocused();
  await filler.hover();
  await filler.getByRole("button", { name: "Reply" }).click();
  await expect(alicePage.locator(".composer .replying")).toContainText("filler 3");
  await composer.fill("Answering three");
  await composer.press("Enter");
  const reply = alicePage.locator("article.message:not(.pending)", { hasText: "Answering three" });
  await expect(reply.locator(".reply-quote")).toContainText("filler 3");
  await expect(reply.locator(".reply-quote")).not.toContainText("`");
  await expect(bobPage.locator("article.message", { hasText: "Answering three" }).locator(".reply-quote")).toContainText(
    "filler 3",
  );
  await reply.locator(".reply-quote").click();
  await expect(filler).toHaveClass(/focused/);
  await expect(filler).toBeInViewport();
  await expect(filler.locator(".reply-count")).toHaveText("1 reply");
  await closeAll(aliceContext, bobContext);
});

test("N replies lists a message's replies, and each jumps to its reply, even far down the history", async ({ browser }) => {
  const { room, bob, aliceContext, bobContext, alicePage } = await pair(browser);
  const original = await postMessage(aliceContext.request, room, "Lunch at **noon**?");
  const reply = async (body: string) => {
    const response = await bobContext.request.post(`/conversations/${room}/messages`, { data: { body, reply_to: original.number } });
    expect(response.status()).toBe(201);
    return (await response.json()).number as number;
  };
  const first = await reply("Yes, *the usual* place");
  for (let i = 1; i <= 60; i++) await postMessage(aliceContext.request, room, `filler ${i}`);
  const last = await reply("Make it 12:30");
  await alicePage.goto(`/rooms/${room}?around=${original.number}`);
  await expect(alicePage.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  const target = alicePage.locator(`article.message[data-number="${original.number}"]`);
  const count = target.getByRole("button", { name: "2 replies" });
  await expect(count).toHaveAttribute("aria-expanded", "false");

  await count.click();
  await expect(count).toHaveAttribute("aria-expanded", "true");
  const listed = target.getByRole("list", { name: "Replies" }).getByRole("link");
  await expect(listed).toHaveCount(2);
  // Oldest first, as they show: who wrote each and how it begins, without the Markdown.
  await expect(listed.nth(0)).toHaveAccessibleName(`Reply from ${bob.name}: Yes, the usual place`);
  await expect(listed.nth(1)).toContainText("Make it 12:30");
  // A reply arriving while the list is open joins it; the list stays open.
  await reply("Count me in");
  await expect(target.getByRole("button", { name: "3 replies" })).toHaveAttribute("aria-expanded", "true");
  await expect(listed).toHaveCount(3);
  await expect(listed.nth(2)).toContainText("Count me in");
  // The loaded one scrolls into view in place, with keyboard focus; the far one opens the page around it.
  await listed.nth(0).click();
  await expect(alicePage.locator(`article.message[data-number="${first}"]`)).toHaveClass(/focused/);
  await expect(alicePage.locator(`article.message[data-number="${first}"]`)).toBeFocused();
  await listed.nth(1).click();
  await expect(alicePage).toHaveURL(new RegExp(`/rooms/${room}\\?around=${last}$`));
  await expect(alicePage.locator(`article.message[data-number="${last}"]`)).toBeInViewport();
  await expect(alicePage.locator(`article.message[data-number="${last}"]`)).toBeFocused();
  await closeAll(aliceContext, bobContext);
});

test("replies opened under a message near the bottom are scrolled into view, whole", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  await registerUser(context, "threads");
  const room = await createRoom(context.request, { kind: "open", title: `Threads ${Date.now()}` });
  for (let i = 1; i <= 20; i++) await postMessage(context.request, room, `earlier ${i}`);
  const original = await postMessage(context.request, room, "Who is in for Friday?");
  for (let i = 1; i <= 10; i++) {
    const response = await context.request.post(`/conversations/${room}/messages`, {
      data: { body: `me ${i}`, reply_to: original.number },
    });
    expect(response.status()).toBe(201);
  }
  const page = await context.newPage();
  await openLive(page, room);
  const target = page.locator(`article.message[data-number="${original.number}"]`);

  await target.getByRole("button", { name: "10 replies" }).click();

  const list = target.getByRole("list", { name: "Replies" });
  await expect(list.getByRole("link")).toHaveCount(10);
  await expect(list).toBeInViewport({ ratio: 1 });
  await context.close();
});

test("the reaction picker closes on Esc, giving focus back, and on a press elsewhere", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  await postMessage(aliceContext.request, room, "pick something");
  await openLive(alicePage, room);
  const message = alicePage.locator("article.message").first();
  const opener = message.getByRole("button", { name: "Add a reaction" });
  const picker = message.getByRole("group", { name: "Pick a reaction" });

  await message.hover();
  await opener.click();
  await expect(picker).toBeVisible();
  await picker.getByRole("button", { name: "React with 🎉" }).focus();
  await alicePage.keyboard.press("Escape");
  await expect(picker).toHaveCount(0);
  await expect(opener).toHaveAttribute("aria-expanded", "false");
  await expect(opener).toBeFocused();

  await opener.click();
  await expect(picker).toBeVisible();
  await alicePage.locator(".chat-header h1").click();
  await expect(picker).toHaveCount(0);
  await expect(message.locator("button.reaction")).toHaveCount(0);

  // And when the keyboard moves on out of the toolbar (Tab to the composer).
  await message.focus();
  await alicePage.keyboard.press("Tab");
  await expect(message.getByRole("button", { name: "Reply to this message" })).toBeFocused();
  await alicePage.keyboard.press("Tab");
  await expect(opener).toBeFocused();
  await alicePage.keyboard.press("Enter");
  await expect(picker).toBeVisible();
  const composer = alicePage.getByLabel("Message", { exact: true });
  for (let i = 0; i < 20 && !(await composer.evaluate((c) => c === document.activeElement)); i++) {
    await alicePage.keyboard.press("Tab");
  }
  await expect(composer).toBeFocused();
  await expect(picker).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test("an open reaction picker stays open while someone else reacts to the same message", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  const sent = await postMessage(aliceContext.request, room, "react to me");
  await openLive(alicePage, room);
  const message = alicePage.locator(`article.message[data-number="${sent.number}"]`);
  const picker = message.getByRole("group", { name: "Pick a reaction" });
  await message.hover();
  await message.getByRole("button", { name: "Add a reaction" }).click();
  await expect(picker).toBeVisible();

  // Bob's reaction arrives live and the row is drawn again.
  const reacted = await bobContext.request.post(`/conversations/${room}/messages/${sent.number}/reactions`, {
    data: { emoji: "👍" },
  });
  expect(reacted.status()).toBe(200);
  await expect(message.locator("button.reaction[data-emoji='👍']")).toContainText("1");

  await expect(picker).toBeVisible();
  await picker.getByRole("button", { name: "React with 👍" }).click();
  await expect(message.locator("button.reaction[data-emoji='👍']")).toContainText("2");
  await expect(picker).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test("a right-to-left message reads right to left", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  await postMessage(aliceContext.request, room, "مرحبا بالعالم hello");
  await postMessage(aliceContext.request, room, "hello مرحبا");
  // Opening with a mention, whose username is Latin: its words decide.
  const bob = (await (await bobContext.request.get("/users/me")).json()).username;
  await postMessage(aliceContext.request, room, `@${bob}: תודה רבה`);
  await openLive(alicePage, room);
  const bodies = alicePage.locator("article.message .body");
  await expect(bodies).toHaveCount(3);
  expect(await bodies.nth(0).evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  expect(await bodies.nth(1).evaluate((el) => getComputedStyle(el).direction)).toBe("ltr");
  expect(await bodies.nth(2).evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  await closeAll(aliceContext, bobContext);
});

test("an open list of replies follows an edit of one of them", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  const question = await postMessage(aliceContext.request, room, "a question");
  const answer = { body: "answer two", reply_to: question.number };
  const replied = await bobContext.request.post(`/conversations/${room}/messages`, { data: answer });
  expect(replied.status()).toBe(201);
  const reply = await replied.json();
  await openLive(alicePage, room);
  const original = alicePage.locator(`article.message[data-number="${question.number}"]`);
  await original.getByRole("button", { name: "1 reply" }).click();
  const list = original.getByRole("list", { name: "Replies" });
  await expect(list).toContainText("answer two");

  const edit = { body: "answer two, edited" };
  const edited = await bobContext.request.patch(`/conversations/${room}/messages/${reply.number}`, { data: edit });
  expect(edited.status()).toBe(200);

  await expect(list).toContainText("answer two, edited");
  await closeAll(aliceContext, bobContext);
});

test("a reply's quote says (edited) once its original is edited, live and after a reload", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage } = await pair(browser);
  const question = await postMessage(aliceContext.request, room, "Friday at 3?");
  const replied = await bobContext.request.post(`/conversations/${room}/messages`, {
    data: { body: "works for me", reply_to: question.number },
  });
  expect(replied.status()).toBe(201);
  await openLive(alicePage, room);
  const quote = alicePage.locator("article.message", { hasText: "works for me" }).locator(".reply-quote");
  await expect(quote).toContainText("Friday at 3?");
  await expect(quote.locator(".reply-edited")).toHaveCount(0);

  const edited = await aliceContext.request.patch(`/conversations/${room}/messages/${question.number}`, {
    data: { body: "Friday at 4?" },
  });
  expect(edited.status()).toBe(200);
  await expect(quote).toContainText("Friday at 4?");
  await expect(quote.locator(".reply-edited")).toHaveText("(edited)");
  await expect(quote).toHaveAttribute("aria-label", /Friday at 4\? \(edited\)$/);
  await alicePage.reload();
  await expect(quote.locator(".reply-edited")).toHaveText("(edited)");
  await closeAll(aliceContext, bobContext);
});

test("a long message is shown cut with Show more, on the page and when it arrives live; Show more shows it whole", async ({
  browser,
}) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const wall = Array.from({ length: 60 }, (_, n) => `line ${n + 1} of a pasted log`).join("\n");
  await postMessage(bobContext.request, room, wall);
  await openLive(alicePage, room);
  await openLive(bobPage, room);
  await postMessage(bobContext.request, room, `${wall}\nagain, live`);
  for (const [page, count] of [
    [alicePage, 2],
    [bobPage, 2],
  ] as const) {
    const long = page.locator("article.message", { hasText: "line 1 of a pasted log" });
    await expect(long).toHaveCount(count);
    const first = long.last();
    const more = first.getByRole("button", { name: "Show more" });
    await expect(more).toHaveAttribute("aria-expanded", "false");
    const cut = (await first.locator(".long-body").boundingBox())!.height;
    expect(cut).toBeLessThan(300);
    await more.click();
    await expect(first.getByRole("button", { name: "Show less" })).toHaveAttribute("aria-expanded", "true");
    expect((await first.locator(".long-body").boundingBox())!.height).toBeGreaterThan(cut * 3);
  }
  // A short one has no such button.
  await postMessage(bobContext.request, room, "a short one");
  await expect(alicePage.locator("article.message", { hasText: "a short one" }).getByRole("button", { name: /Show/ })).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test(":tad in the composer offers 🎉 by its shortcode; Enter puts it in, Esc and a time leave the text alone", async ({
  browser,
}) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const errors = trackPageErrors(alicePage);
  await openLive(alicePage, room);
  await openLive(bobPage, room);
  const composer = alicePage.getByRole("combobox", { name: "Message" });
  const list = alicePage.getByRole("listbox", { name: "Emoji" });
  await composer.focus();

  await alicePage.keyboard.type("We shipped :tad");

  await expect(list).toBeVisible();
  await expect(composer).toHaveAttribute("aria-expanded", "true");
  const options = list.getByRole("option");
  await expect(options.nth(0)).toHaveText("🎉 :tada:");
  await expect(options.nth(0)).toHaveAttribute("aria-selected", "true");
  await alicePage.keyboard.press("Enter");
  await expect(composer).toHaveValue("We shipped 🎉 ");
  await expect(list).toBeHidden();
  await expect(alicePage.locator("article.message")).toHaveCount(0);

  // Esc closes it with the text as typed; a time is no shortcode.
  await alicePage.keyboard.type("at 10:30 :thumbs");
  await expect(list).toBeVisible();
  await alicePage.keyboard.press("Escape");
  await expect(list).toBeHidden();
  await expect(composer).toHaveValue("We shipped 🎉 at 10:30 :thumbs");
  await alicePage.keyboard.press("Enter");
  await expect(bobPage.locator("article.message .body").last()).toHaveText("We shipped 🎉 at 10:30 :thumbs");
  expect(errors).toEqual([]);
  await closeAll(aliceContext, bobContext);
});

test("the reaction picker finds any emoji by its name: Enter reacts with the first found, a press on another reacts with it", async ({
  browser,
}) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await postMessage(aliceContext.request, room, "We launched");
  await openLive(alicePage, room);
  await openLive(bobPage, room);
  const message = bobPage.locator("article.message").first();
  await message.hover();
  await message.getByRole("button", { name: "Add a reaction" }).click();
  const field = message.getByRole("searchbox", { name: "Find an emoji by name" });

  await field.fill("rocke");
  await expect(message.getByRole("button", { name: "React with 🚀 :rocket:" })).toBeVisible();
  await field.press("Enter");

  const onAlice = alicePage.locator("article.message").first().locator("button.reaction[data-emoji='🚀']");
  await expect(onAlice).toHaveText("🚀 1");
  await expect(message.locator(".react-picker")).toHaveCount(0);
  // Again, picking one of several found with the pointer.
  await message.hover();
  await message.getByRole("button", { name: "Add a reaction" }).click();
  await field.fill("cake");
  await message.getByRole("button", { name: "React with 🍥 :fish_cake:" }).click();
  await expect(alicePage.locator("article.message").first().locator("button.reaction[data-emoji='🍥']")).toHaveText("🍥 1");
  await closeAll(aliceContext, bobContext);
});
