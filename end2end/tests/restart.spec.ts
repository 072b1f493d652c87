import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Page } from "./fixtures";
import { createRoom, openLive, registerUser, send } from "./helpers";

// A restart nobody notices (issue 19): this spec runs its own server (the
// binary `make e2e` built, on its own port and data dir), stops it
// with SIGTERM in the middle of a conversation and starts it again. The
// pages stay open: what was sent during the restart appears, in order, with
// no reload.
const binary = process.env.HEARTH_BIN ?? join(__dirname, "..", "..", "target", "debug", "hearth");
const port = Number(process.env.HEARTH_E2E_RESTART_PORT ?? 3105);
const base = `http://127.0.0.1:${port}`;

function start(data: string): ChildProcess {
  return spawn(binary, ["serve"], {
    env: {
      ...process.env,
      HEARTH_DATA_DIR: data,
      HEARTH_LISTEN: `127.0.0.1:${port}`,
      HEARTH_SIGN_INS_PER_IP: "1000",
      // Not the demo: anyone may register here, as the spec does.
      HEARTH_SIGN_UP_POLICY: "open",
      HEARTH_LOG: "warn",
      HEARTH_SHUTDOWN_TIMEOUT: "5",
    },
    stdio: "ignore",
  });
}

async function healthy() {
  await expect(async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
  }).toPass({ timeout: 30_000, intervals: [100, 250, 500] });
}

async function stopped(server: ChildProcess) {
  if (server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await exited;
}

const bodies = (page: Page) => page.locator("article.message:not(.pending) .body");
/** The bodies' text as shown (Markdown paragraphs end with a line break). */
const texts = async (page: Page) => (await bodies(page).allTextContents()).map((text) => text.trim());
const numbers = (page: Page) =>
  page.locator("article.message:not(.pending)").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-number"))));

test("a server restart mid-conversation loses nothing and needs no reload", async ({ browser }) => {
  const data = mkdtempSync(join(tmpdir(), "hearth-restart-"));
  let server = start(data);
  try {
    await healthy();
    const aliceContext = await browser.newContext({ baseURL: base });
    const bobContext = await browser.newContext({ baseURL: base });
    await registerUser(aliceContext, "alice");
    const bob = await registerUser(bobContext, "bob");
    const room = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
    const alicePage = await aliceContext.newPage();
    const bobPage = await bobContext.newPage();
    await openLive(alicePage, room);
    await openLive(bobPage, room);
    // Set on the live page: a reload would lose it.
    await alicePage.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    await send(alicePage, "before the restart");
    await expect(bodies(bobPage)).toHaveText(["before the restart"]);

    // The server goes away (SIGTERM: sockets close with 1012) ...
    await stopped(server);
    await expect(alicePage.locator(".chat")).not.toHaveAttribute("data-live", "true");
    // ... alice writes while it is down (kept, and sent on reconnect) ...
    const composer = alicePage.getByLabel("Message", { exact: true });
    await composer.fill("during the restart");
    await composer.press("Enter");
    // ... and it comes back on the same database; bob posts at once.
    server = start(data);
    await healthy();
    const posted = await bobContext.request.post(`/conversations/${room}/messages`, {
      data: { body: "right after the restart" },
    });
    expect(posted.status()).toBe(201);

    // Both pages reconnect by themselves and show all three, in the
    // server's order, each once.
    for (const page of [alicePage, bobPage]) {
      await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
      await expect(bodies(page)).toHaveCount(3, { timeout: 30_000 });
      expect(await numbers(page)).toEqual([1, 2, 3]);
    }
    const aliceSaw = await texts(alicePage);
    expect(aliceSaw[0]).toBe("before the restart");
    expect([...aliceSaw].sort()).toEqual(["before the restart", "during the restart", "right after the restart"]);
    expect(await texts(bobPage)).toEqual(aliceSaw);
    expect(await alicePage.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await aliceContext.close();
    await bobContext.close();
  } finally {
    await stopped(server);
    rmSync(data, { recursive: true, force: true });
  }
});
