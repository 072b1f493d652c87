import { expect, test } from "./fixtures";
import { closeAll, createRoom, initialsOf, openLive, pair, postMessage, registerUser, trackPageErrors } from "./helpers";

test("an image pasted into the composer appears as a thumbnail for the other user, live", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  const errors = trackPageErrors(bobPage);
  await openLive(alicePage, room);
  await openLive(bobPage, room);

  // Bob pastes a picture (drawn on a canvas, as a screenshot would be).
  const composer = bobPage.getByLabel("Message", { exact: true });
  await composer.focus();
  await composer.evaluate(async (area) => {
    const canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 320;
    const g = canvas.getContext("2d")!;
    g.fillStyle = "#e8692c";
    g.fillRect(0, 0, 640, 320);
    const blob: Blob = await new Promise((done) => canvas.toBlob((b) => done(b!), "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], "screenshot.png", { type: "image/png" }));
    area.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
  });
  const chip = bobPage.locator(".uploads .upload", { hasText: "screenshot.png" });
  await expect(chip).toBeVisible();
  // Done: its size instead of the progress bar; then Enter sends it alone.
  await expect(chip.locator("progress")).toHaveCount(0);
  await expect(chip).toContainText("KB");
  await composer.press("Enter");
  await expect(bobPage.locator(".uploads .upload")).toHaveCount(0);

  const picture = alicePage.locator("article.message .file-image img");
  await expect(picture).toHaveCount(1);
  await expect(picture).toHaveAttribute("src", /^\/attachments\/thumbnails\/\d+$/);
  await expect(picture).toHaveAttribute("alt", "screenshot.png");
  // Shown fitted into 320 × 256, in a frame of its own size (no empty band beside it).
  await expect(picture).toHaveAttribute("width", "320");
  await expect(picture).toHaveAttribute("height", "160");
  // The thumbnail really loaded (Alice is a member, so the server served it).
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(480);
  const [shown, frame] = [(await picture.boundingBox())!, (await alicePage.locator("article.message .file-image").boundingBox())!];
  expect(Math.round(shown.width)).toBe(320);
  expect(Math.round(frame.width - shown.width)).toBeLessThanOrEqual(2);
  // It links to the whole picture, which a member can open.
  const href = await alicePage.locator("article.message .file-image").getAttribute("href");
  expect(href).toMatch(/^\/attachments\/\d+\/screenshot\.png$/);
  const full = await aliceContext.request.get(href!);
  expect(full.status()).toBe(200);
  expect(full.headers()["content-type"]).toBe("image/png");
  // The same after a reload (what the live event showed is what the page shows).
  await alicePage.reload();
  await expect(alicePage.locator("article.message .file-image img")).toHaveAttribute("alt", "screenshot.png");
  // Deleted, the message shows no picture any more, live on both screens,
  // as a reload would show it.
  await expect(alicePage.locator(".chat[data-live=true]")).toBeVisible();
  const number = await alicePage.locator("article.message").first().getAttribute("data-number");
  expect((await bobContext.request.delete(`/conversations/${room}/messages/${number}`)).status()).toBe(204);
  for (const page of [alicePage, bobPage]) {
    const row = page.locator(`article.message[data-number="${number}"]`);
    await expect(row.locator(".body")).toHaveText("This message was deleted.");
    await expect(row.locator(".file-image, .files a")).toHaveCount(0);
  }
  expect(errors).toEqual([]);
  await closeAll(aliceContext, bobContext);
});

test("files dropped on the window or attached go with the text, and a file over the limit says why", async ({ browser }) => {
  const { room, aliceContext, bobContext, alicePage, bobPage } = await pair(browser);
  await openLive(alicePage, room);
  await openLive(bobPage, room);

  // A file dropped anywhere on the chat window.
  await bobPage.locator("section.chat").evaluate((chat) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["minutes of the meeting"], "minutes.txt", { type: "text/plain" }));
    chat.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  // And one chosen with Attach.
  await bobPage.getByLabel("Attach files").setInputFiles({
    name: "data.bin",
    mimeType: "application/octet-stream",
    buffer: Buffer.alloc(300_000, 7),
  });
  const uploads = bobPage.locator(".uploads .upload");
  await expect(uploads).toHaveCount(2);
  await expect(uploads.locator("progress")).toHaveCount(0);
  // Too large: refused at once, with the server's reason; it stays listed
  // (and is not sent) until removed.
  await bobPage.getByLabel("Attach files").setInputFiles({
    name: "huge.iso",
    mimeType: "application/octet-stream",
    buffer: Buffer.alloc(26 * 1024 * 1024, 1),
  });
  const refused = bobPage.locator(".uploads .upload.failed");
  await expect(refused).toContainText("File is too large (maximum is 25 MB)");

  const composer = bobPage.getByLabel("Message", { exact: true });
  await composer.fill("the notes and the data");
  // Not while a listed file failed: that is for me to see to first.
  await composer.press("Enter");
  await expect(bobPage.locator(".upload-held")).toContainText("Remove the file that could not be uploaded");
  await expect(composer).toHaveValue("the notes and the data");
  await expect(refused).toHaveCount(1);
  // By keyboard: focus goes back to the text, not to the page's start.
  await bobPage.getByRole("button", { name: "Remove huge.iso" }).focus();
  await bobPage.keyboard.press("Enter");
  await expect(bobPage.locator(".upload-held")).toHaveCount(0);
  await expect(composer).toBeFocused();
  await composer.press("Enter");
  const message = alicePage.locator("article.message", { hasText: "the notes and the data" });
  await expect(message.locator(".file-link")).toHaveCount(2);
  await expect(message.locator(".file-link").first()).toContainText("minutes.txt");
  await expect(message.locator(".file-link").nth(1)).toContainText("data.bin");
  // 300,000 bytes, in the units the upload limit is said in (1 KB = 1,024 bytes).
  await expect(message.locator(".file-link").nth(1)).toContainText("293 KB");
  // Each file's icon is drawn, not an emoji (a box without an emoji font).
  await expect(message.locator(".file-link svg.icon")).toHaveCount(2);
  expect(await message.locator(".file-link").first().textContent()).not.toMatch(/\p{Extended_Pictographic}/u);
  const text = await aliceContext.request.get((await message.locator(".file-link").first().getAttribute("href"))!);
  expect(await text.text()).toBe("minutes of the meeting");
  await expect(bobPage.locator(".uploads .upload")).toHaveCount(0);
  await closeAll(aliceContext, bobContext);
});

test("a picture uploaded on the profile page becomes the avatar, and the profile still saves", async ({ browser }) => {
  const context = await browser.newContext();
  const me = await registerUser(context, "avatar");
  const page = await context.newPage();
  await page.goto("/profile");
  await expect(page.locator(".avatar-upload")).toBeVisible();
  const onePixel = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  );
  const picture = page.locator(".avatar-upload img.avatar");
  // A URL that cannot be fetched is refused on its field.
  await page.getByLabel("Avatar URL").fill("http://127.0.0.1:9/gone.png");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Avatar url could not be fetched")).toBeVisible();
  await expect(page.getByLabel("Avatar URL")).toHaveAttribute("aria-invalid", "true");
  // What was typed stays, to be fixed; so does the rest of the form.
  await expect(page.getByLabel("Avatar URL")).toHaveValue("http://127.0.0.1:9/gone.png");
  // A picture on the web is copied and served from here (this server's own
  // icon stands in for one; the test server lets loopback through).
  await page.getByLabel("Avatar URL").fill(new URL("/icon-192.png", page.url()).href);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Profile saved")).toBeVisible();
  await expect(page.getByLabel("Avatar URL")).toHaveValue(new RegExp(`^/users/${me.id}/avatar\\?v=`));
  await expect(picture).toHaveAttribute("src", new RegExp(`^/users/${me.id}/avatar\\?v=`));
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);
  const copied = await picture.getAttribute("src");
  // Then a picture uploaded: the form shows the picture's address at once,
  // so a later Save keeps the picture (it sent the old address back and
  // lost it).
  await page.getByLabel("Upload a picture").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: onePixel });
  await expect(page.getByText("Picture saved")).toBeVisible();
  await expect(picture).toHaveAttribute("src", new RegExp(`^/users/${me.id}/avatar\\?v=`));
  await expect(picture).not.toHaveAttribute("src", copied!);
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);
  await expect(page.getByLabel("Avatar URL")).toHaveValue(new RegExp(`^/users/${me.id}/avatar`));
  await page.getByLabel("Name", { exact: true }).fill("Avatar Keeper");
  await page.getByRole("button", { name: "Save" }).click();
  await expect.poll(async () => (await (await context.request.get("/users/me")).json()).name).toBe("Avatar Keeper");
  expect((await (await context.request.get("/users/me")).json()).avatar_url).toMatch(new RegExp(`^/users/${me.id}/avatar`));
  // The form shows the new picture's address, and saving it keeps it.
  await page.reload();
  await expect(page.getByLabel("Avatar URL")).toHaveValue(new RegExp(`^/users/${me.id}/avatar`));
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Profile saved")).toBeVisible();
  // Not an image: the server's reason is shown.
  await page.getByLabel("Upload a picture").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await expect(page.locator(".avatar-upload .field-error")).toContainText("must be a PNG, JPEG, GIF or WebP image");
  // Only the upload's answer shows now, not the earlier save's.
  await expect(page.getByText("Profile saved")).toHaveCount(0);
  // And saving the form again takes the upload's error away.
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Profile saved")).toBeVisible();
  await expect(page.locator(".avatar-upload .field-error")).toHaveCount(0);
  await context.close();
});

test("an avatar whose picture does not load shows the person's initials, not a broken image", async ({ browser }) => {
  const context = await browser.newContext();
  const me = await registerUser(context, "deadlink");
  const onePixel = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  );
  const saved = await context.request.put("/users/me/avatar", { headers: { "Content-Type": "image/png" }, data: onePixel });
  expect(saved.status()).toBe(200);
  // The picture fails to load, as one set by URL before pictures were
  // copied does (the page's CSP blocks other sites), or on a network fault.
  await context.route("**/users/*/avatar*", (route) => route.abort());
  const page = await context.newPage();
  await page.goto("/profile");
  const face = page.locator(".avatar-upload .avatar");
  await expect(face).toHaveText(initialsOf(me.name));
  await expect(page.locator(".avatar-upload img.avatar")).toHaveCount(0);
  // And so in a room, where others see it.
  const room = await createRoom(context.request, { kind: "open", title: `Faces ${Date.now()}` });
  await postMessage(context.request, room, "can you see me?");
  await page.goto(`/rooms/${room}`);
  await expect(page.locator("article.message .gutter .avatar")).toHaveText(initialsOf(me.name));
  await context.close();
});

test("files attached in one room are still there after a look at another room, and go with the message", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "attacher");
  const first = await createRoom(context.request, { kind: "open", title: `Files here ${Date.now()}` });
  const second = await createRoom(context.request, { kind: "open", title: `Elsewhere ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, first);
  await page.getByLabel("Attach files").setInputFiles({ name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from("the plan") });
  const uploads = page.locator(".uploads .upload");
  await expect(uploads).toHaveCount(1);
  await expect(uploads.locator("progress")).toHaveCount(0);
  await page.getByLabel("Message", { exact: true }).fill("see the plan");

  await page.locator(`.sidebar a[href="/rooms/${second}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  await expect(page.locator(".uploads .upload")).toHaveCount(0);
  await page.locator(`.sidebar a[href="/rooms/${first}"]`).click();
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });

  await expect(uploads).toHaveCount(1);
  await expect(uploads).toContainText("plan.txt");
  const composer = page.getByLabel("Message", { exact: true });
  await expect(composer).toHaveValue("see the plan");
  await composer.press("Enter");
  const sent = page.locator("article.message:not(.pending)", { hasText: "see the plan" });
  await expect(sent.locator(".file-link")).toContainText("plan.txt");
  await expect(uploads).toHaveCount(0);
  await context.close();
});

test("Enter while a file is still uploading sends the message once the file is up", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "eager");
  const room = await createRoom(context.request, { kind: "open", title: `Eager ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  // The upload takes a while.
  await page.route(/\/conversations\/\d+\/attachments/, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await route.continue();
  });
  await page.getByLabel("Attach files").setInputFiles({ name: "slow.txt", mimeType: "text/plain", buffer: Buffer.from("slowly") });
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("with the slow file");
  await composer.press("Enter");

  await expect(page.getByRole("status").filter({ hasText: "Sends when the files are up" })).toBeVisible();
  const sent = page.locator("article.message:not(.pending)", { hasText: "with the slow file" });
  await expect(sent.locator(".file-link")).toContainText("slow.txt", { timeout: 15_000 });
  await expect(page.getByRole("status").filter({ hasText: "Sends when the files are up" })).toHaveCount(0);
  await expect(composer).toHaveValue("");
  const history = await (await context.request.get(`/conversations/${room}/messages`)).json();
  expect(history.messages).toHaveLength(1);
  await context.close();
});

test("a message does not go while a file of it failed to upload, and says to remove that file first", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "careful");
  const room = await createRoom(context.request, { kind: "open", title: `Careful ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  const onePixel = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  );
  await page.getByLabel("Attach files").setInputFiles([
    { name: "empty.txt", mimeType: "text/plain", buffer: Buffer.alloc(0) },
    { name: "dot.png", mimeType: "image/png", buffer: onePixel },
  ]);
  const uploads = page.locator(".uploads .upload");
  await expect(uploads.filter({ hasText: "empty.txt" })).toContainText("File is empty");
  await expect(uploads.locator("progress")).toHaveCount(0);
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("the picture");
  const wide = (await composer.boundingBox())!.width;

  await composer.press("Enter");

  await expect(page.locator(".upload-held")).toContainText("Remove the file that could not be uploaded");
  await expect(composer).toHaveValue("the picture");
  // The note has a line of its own: the text box keeps its width.
  expect((await composer.boundingBox())!.width).toBeGreaterThan(wide * 0.9);
  await expect(uploads).toHaveCount(2);
  await expect(page.locator("article.message")).toHaveCount(0);
  expect((await (await context.request.get(`/conversations/${room}/messages`)).json()).messages).toHaveLength(0);

  // Removed, the rest goes.
  await page.getByRole("button", { name: "Remove empty.txt" }).click();
  await expect(page.locator(".upload-held")).toHaveCount(0);
  await composer.press("Enter");
  const sent = page.locator("article.message:not(.pending)", { hasText: "the picture" });
  await expect(sent.locator(".file-image")).toHaveCount(1);
  await expect(uploads).toHaveCount(0);
  await context.close();
});

test("pictures of different heights in one message each keep their own height", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "pictures");
  const room = await createRoom(context.request, { kind: "open", title: `Pictures ${Date.now()}` });
  const page = await context.newPage();
  await openLive(page, room);
  // A wide one and a tall one, drawn and uploaded by the page itself.
  await page.evaluate(async (room) => {
    const ids: number[] = [];
    for (const [name, width, height] of [["wide.png", 300, 60], ["tall.png", 60, 240], ["sliver.png", 1, 2000], ["dot.png", 1, 1]] as const) {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d")!.fillRect(0, 0, width, height);
      const blob: Blob = await new Promise((done) => canvas.toBlob((b) => done(b!), "image/png"));
      const made = await fetch(`/conversations/${room}/attachments?name=${name}`, { method: "POST", body: blob, headers: { "Content-Type": "image/png" } });
      ids.push((await made.json()).id);
    }
    await fetch(`/conversations/${room}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ body: "two shapes", attachment_ids: ids }),
    });
  }, room);

  const frames = page.locator("article.message .file-image");
  await expect(frames).toHaveCount(4);
  for (const frame of await frames.all()) {
    const [box, picture] = [(await frame.boundingBox())!, (await frame.locator("img").boundingBox())!];
    expect(Math.round(box.height - picture.height), "no band under the picture").toBeLessThanOrEqual(2);
    // A sliver or a dot is still there to see and click.
    expect(picture.width).toBeGreaterThanOrEqual(24);
    expect(picture.height).toBeGreaterThanOrEqual(24);
  }
  await context.close();
});

test("ten files chosen at once go up two at a time, and all of them go with the message", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "tenfiles");
  const room = await createRoom(context.request, { kind: "open", title: `Ten files ${Date.now()}` });
  const page = await context.newPage();
  // The server takes at most two bodies of one person at once: the page
  // counts its uploads on their way (XMLHttpRequest, until its answer is
  // in), and each is held a moment so that they would overlap.
  await page.addInitScript(() => {
    const counts = ((window as unknown as { uploads: { now: number; most: number } }).uploads = { now: 0, most: 0 });
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      counts.now += 1;
      counts.most = Math.max(counts.most, counts.now);
      let ended = false;
      // Before the page's own loadend handler, which starts the next one.
      this.addEventListener("readystatechange", () => {
        if (this.readyState === XMLHttpRequest.DONE && !ended) {
          ended = true;
          counts.now -= 1;
        }
      });
      return send.call(this, body);
    };
  });
  await page.route("**/attachments?*", async (route) => {
    await new Promise((done) => setTimeout(done, 150));
    await route.continue();
  });
  await openLive(page, room);
  const files = Array.from({ length: 10 }, (_, i) => ({ name: `part-${i}.txt`, mimeType: "text/plain", buffer: Buffer.from(`part ${i}`) }));
  await page.getByLabel("Attach files").setInputFiles(files);
  const uploads = page.locator(".uploads .upload");
  await expect(uploads).toHaveCount(10);
  await expect(uploads.locator("progress")).toHaveCount(0, { timeout: 20_000 });
  await expect(page.locator(".uploads .upload.failed")).toHaveCount(0);
  const most = await page.evaluate(() => (window as unknown as { uploads: { most: number } }).uploads.most);
  expect(most).toBe(2);

  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill("all ten");
  await composer.press("Enter");
  const sent = page.locator("article.message:not(.pending)", { hasText: "all ten" });
  await expect(sent.locator(".file-link")).toHaveCount(10);
  await context.close();
});

test("a file removed while it uploads is stopped at once, and the next waiting file takes its turn", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "remover");
  const room = await createRoom(context.request, { kind: "open", title: `Removed ${Date.now()}` });
  const page = await context.newPage();
  // Every upload is held until the test lets it go, or the browser drops it.
  const held: (() => void)[] = [];
  await page.route("**/attachments?*", async (route) => {
    await new Promise<void>((go) => held.push(go));
    await route.continue().catch(() => {});
  });
  await openLive(page, room);
  const aborted: string[] = [];
  page.on("requestfailed", (request) => aborted.push(new URL(request.url()).searchParams.get("name") ?? ""));
  const files = ["big.bin", "second.txt", "third.txt"].map((name) => ({ name, mimeType: "text/plain", buffer: Buffer.from(name) }));
  await page.getByLabel("Attach files").setInputFiles(files);
  const uploads = page.locator(".uploads .upload");
  await expect(uploads).toHaveCount(3);
  await expect.poll(() => held.length).toBe(2);

  await page.getByRole("button", { name: "Remove big.bin" }).click();
  // Stopped, not left running; its turn goes to the third file.
  await expect.poll(() => aborted).toEqual(["big.bin"]);
  await expect.poll(() => held.length, { timeout: 5_000 }).toBe(3);
  for (const go of held) go();
  await expect(uploads).toHaveCount(2);
  await expect(uploads.locator("progress")).toHaveCount(0, { timeout: 20_000 });
  await expect(page.locator(".uploads .upload.failed")).toHaveCount(0);
  await context.close();
});

test("a file refused for too many uploads at once is sent again by itself when the server says", async ({ browser }) => {
  const context = await browser.newContext();
  await registerUser(context, "patient");
  const room = await createRoom(context.request, { kind: "open", title: `Patient ${Date.now()}` });
  const page = await context.newPage();
  // The first try meets my uploads in another tab: 429, "in 1 s".
  let tries = 0;
  await page.route("**/attachments?*", async (route) => {
    tries += 1;
    if (tries === 1) {
      await route.fulfill({
        status: 429,
        headers: { "Retry-After": "1", "Content-Type": "application/json" },
        body: JSON.stringify({ errors: ["Too many uploads at once: try again in 1 s"] }),
      });
    } else {
      await route.continue();
    }
  });
  await openLive(page, room);
  await page.getByLabel("Attach files").setInputFiles({ name: "shot.txt", mimeType: "text/plain", buffer: Buffer.from("a screenshot") });
  const upload = page.locator(".uploads .upload");
  // Never shown as failed; done on the second try, with nothing done by hand.
  await expect(upload.locator(".muted")).toHaveText(/bytes/, { timeout: 10_000 });
  await expect(page.locator(".uploads .upload.failed")).toHaveCount(0);
  expect(tries).toBe(2);
  await context.close();
});
