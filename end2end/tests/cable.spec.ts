import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, test, type BrowserContext, type Page } from "./fixtures";
import { createRoom, postMessage, registerUser, uniqueName } from "./helpers";

// ChatFlow's ActionCable clients against /cable: the real `@rails/actioncable`
// consumer (from npm), loaded by the test into a Chromium page on the
// server's own origin (so that the session cookie goes with the socket and
// the Origin check passes), subscribing the way ChatFlow's
// `conversations_channel.js` does.

const actionCable = readFileSync(
  require.resolve("@rails/actioncable/app/assets/javascripts/actioncable.js"),
  "utf8",
);

/** What the page runs once the consumer is loaded: ChatFlow's channel, with
 * callbacks that record what happened for the test to read. */
function setUp() {
  const w = window as any;
  w.events = [];
  w.received = [];
  w.consumer = w.ActionCable.createConsumer("/cable");
  w.subscribeTo = (conversationId: number) =>
    w.consumer.subscriptions.create(
      { channel: "ConversationsChannel", conversation_id: conversationId },
      {
        connected() { w.events.push("connected"); },
        disconnected() { w.events.push("disconnected"); },
        rejected() { w.events.push("rejected"); },
        received(data: unknown) { w.received.push(data); },
      },
    );
}

/**
 * A page of `base` (a real response from the server, so that Chromium counts
 * it as the server's own origin and address space, and the session cookie
 * goes with the socket) into which the test loads the consumer. The
 * context must bypass the page's CSP, which allows only the server's own
 * scripts.
 */
async function cablePage(context: BrowserContext, base: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/__e2e/actioncable-client`);
  await page.addScriptTag({ content: actionCable });
  await page.evaluate(setUp);
  return page;
}

const events = (page: Page) => page.evaluate(() => (window as any).events as string[]);
const bodies = (page: Page) =>
  page.evaluate(() => ((window as any).received as any[]).map((data) => data.message?.body));

test("the @rails/actioncable consumer receives a message posted over REST, and a non-member is rejected", async ({
  browser,
  baseURL,
}) => {
  const alice = await browser.newContext({ bypassCSP: true });
  const bob = await browser.newContext();
  const eve = await browser.newContext({ bypassCSP: true });
  await registerUser(alice, "alice");
  const bobUser = await registerUser(bob, "bob");
  await registerUser(eve, "eve");
  const room = await createRoom(alice.request, { participant_ids: [bobUser.id] });

  const alicePage = await cablePage(alice, baseURL!);
  await alicePage.evaluate((id) => (window as any).subscribeTo(id), room);
  await expect.poll(() => events(alicePage)).toContain("connected");

  await postMessage(bob.request, room, "Hello over ActionCable");
  await expect.poll(() => bodies(alicePage)).toEqual(["Hello over ActionCable"]);
  const data = await alicePage.evaluate(() => (window as any).received[0]);
  expect(data.event).toBe("created");
  expect(data.message.user_id).toBe(bobUser.id);
  expect(typeof data.message.id).toBe("number");
  expect(typeof data.message.created_at).toBe("string");

  const evePage = await cablePage(eve, baseURL!);
  await evePage.evaluate((id) => (window as any).subscribeTo(id), room);
  await expect.poll(() => events(evePage)).toContain("rejected");
  expect(await events(evePage)).not.toContain("connected");

  for (const context of [alice, bob, eve]) await context.close();
});

/** A free loopback port. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

/** The `hearth` binary `make e2e` built (HEARTH_BIN to pick another), serving `dataDir` on `port`, until stopped by PID. */
class OwnServer {
  private child?: ChildProcess;
  constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const root = resolve(__dirname, "../..");
    const binary =
      process.env.HEARTH_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "hearth");
    // Its own SQLite file in `dataDir` and no demo accounts, whatever the
    // caller's environment says (`make e2e` serves the demo).
    const { DATABASE_URL: _database, HEARTH_DEMO: _demo, ...env } = process.env;
    this.child = spawn(binary, ["serve"], {
      cwd: root,
      stdio: "ignore",
      env: {
        ...env,
        HEARTH_DATA_DIR: this.dataDir,
        HEARTH_LISTEN: `127.0.0.1:${this.port}`,
        HEARTH_SIGN_INS_PER_IP: "1000",
        // Not the demo: anyone may register here, as the spec does.
        HEARTH_SIGN_UP_POLICY: "open",
      },
    });
    await expect
      .poll(async () => (await fetch(`${this.base}/healthz`).catch(() => undefined))?.status, { timeout: 30_000 })
      .toBe(200);
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
  }
}

test("after the server restarts, the consumer's monitor reconnects by itself and receives new messages", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-cable-"));
  const server = new OwnServer(await freePort(), dataDir);
  await server.start();
  const alice = await browser.newContext({ bypassCSP: true });
  const bob = await browser.newContext();
  try {
    const register = async (context: BrowserContext, prefix: string) => {
      const username = uniqueName(prefix);
      const response = await context.request.post(`${server.base}/users`, {
        data: { user: { email: `${username}@example.com`, username, password: "secret123", name: prefix } },
      });
      expect(response.status()).toBe(201);
      return (await response.json()).user.id as number;
    };
    await register(alice, "alice");
    const bobId = await register(bob, "bob");
    const created = await alice.request.post(`${server.base}/conversations`, { data: { participant_ids: [bobId] } });
    expect(created.status()).toBe(201);
    const room = (await created.json()).id;
    const page = await cablePage(alice, server.base);
    await page.evaluate((id) => (window as any).subscribeTo(id), room);
    await expect.poll(() => events(page)).toEqual(["connected"]);

    await server.stop();
    await expect.poll(() => events(page)).toContain("disconnected");
    await server.start();

    // No reload, no call: the consumer's own monitor reconnects and resubscribes.
    await expect.poll(() => events(page), { timeout: 60_000 }).toEqual(["connected", "disconnected", "connected"]);
    const sent = await bob.request.post(`${server.base}/conversations/${room}/messages`, {
      data: { body: "after the restart" },
    });
    expect(sent.status()).toBe(201);
    await expect.poll(() => bodies(page)).toEqual(["after the restart"]);
  } finally {
    await alice.close();
    await bob.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
