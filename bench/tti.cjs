// Time to interactive of a signed-in room page with 50 messages, in Chromium
// with the CPU throttled 4× (CDP Emulation.setCPUThrottlingRate), as issue 15
// asks; and the bundle's sizes. Run by hand against a running server:
//
//   HEARTH_DEMO=true ./target/release/hearth serve &        # after `make release`
//   node bench/tti.cjs http://127.0.0.1:3000 [runs] [--trace]
//
// "Interactive" is the moment the chat window says it is live
// (`.chat[data-live=true]`): the WASM is fetched, compiled and has hydrated
// the page, and the room's subscription is confirmed, so typing and sending
// work. Each run is a fresh page load in a fresh context (cold HTTP cache,
// as on a first visit) and in a warm one (the bundle cached). Results go to
// docs/benchmarks.md by hand.
//
// With --trace, one more cold load is recorded with Chromium's tracing and
// the main thread's time up to "interactive" is split by what it did:
// compiling WASM functions on their first call (V8 compiles them lazily),
// running script, style and layout, painting, parsing the HTML.
const path = require("node:path");
const zlib = require("node:zlib");
const fs = require("node:fs");
const { chromium } = require(path.join(__dirname, "..", "end2end", "node_modules", "playwright"));

const args = process.argv.slice(2).filter((a) => a !== "--trace");
const trace = process.argv.includes("--trace");
const base = args[0] ?? "http://127.0.0.1:3000";
const runs = Number(args[1] ?? 10);

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  const pkg = path.join(__dirname, "..", "target", "site", "pkg");
  for (const name of ["hearth.wasm", "hearth.js", "hearth.css"]) {
    const raw = fs.readFileSync(path.join(pkg, name));
    const gz = zlib.gzipSync(raw, { level: 9 }).length;
    const br = fs.existsSync(path.join(pkg, `${name}.br`)) ? fs.statSync(path.join(pkg, `${name}.br`)).size : NaN;
    console.log(`${name}: ${(raw.length / 1024).toFixed(0)} KiB raw, ${(gz / 1024).toFixed(0)} KiB gzip, ${(br / 1024).toFixed(0)} KiB brotli`);
  }

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  // One user with an open room of 50 messages.
  const setup = await browser.newContext({ baseURL: base });
  const username = `tti${Date.now().toString(36)}`;
  let response = await setup.request.post("/users", {
    data: { user: { email: `${username}@example.com`, username, password: "secret123", name: "Time Keeper" } },
  });
  if (response.status() !== 201) throw new Error(`register: ${response.status()}`);
  response = await setup.request.post("/conversations", { data: { kind: "open", title: "Fifty messages" } });
  const room = (await response.json()).id;
  for (let n = 1; n <= 50; n++) {
    const text = n % 5 === 0 ? `Message ${n} with **markdown**, \`code\` and a link https://example.com/${n}` : `Message ${n}`;
    response = await setup.request.post(`/conversations/${room}/messages`, { data: { body: text } });
    if (response.status() !== 201) throw new Error(`post: ${response.status()}`);
  }
  const state = await setup.storageState();

  async function once(context, tracePath) {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        const chat = document.querySelector(".chat[data-live=true]");
        if (chat) {
          window.__interactive = performance.now();
          observer.disconnect();
        }
      }).observe(document, { subtree: true, attributes: true, childList: true });
    });
    if (tracePath) {
      await browser.startTracing(page, { path: tracePath, categories: ["devtools.timeline", "v8", "v8.wasm", "blink"] });
    }
    await page.goto(`${base}/rooms/${room}`);
    await page.waitForFunction(() => window.__interactive !== undefined, null, { timeout: 60_000 });
    if (tracePath) await browser.stopTracing();
    const times = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return { interactive: window.__interactive, html: nav.responseEnd, loaded: nav.loadEventEnd };
    });
    const rows = await page.locator("article.message").count();
    if (rows !== 50) throw new Error(`expected 50 messages, saw ${rows}`);
    await page.close();
    return times;
  }

  for (const cache of ["cold", "warm"]) {
    const samples = [];
    let context = await browser.newContext({ storageState: state });
    if (cache === "warm") await once(context); // fills the HTTP cache
    for (let i = 0; i < runs; i++) {
      if (cache === "cold") {
        await context.close();
        context = await browser.newContext({ storageState: state });
      }
      samples.push(await once(context));
    }
    await context.close();
    const tti = samples.map((s) => s.interactive).sort((a, b) => a - b);
    const html = samples.map((s) => s.html).sort((a, b) => a - b);
    console.log(
      `${cache} cache, CPU 4× slower, ${runs} runs: interactive p50 ${quantile(tti, 0.5).toFixed(0)} ms, ` +
        `p90 ${quantile(tti, 0.9).toFixed(0)} ms (HTML received p50 ${quantile(html, 0.5).toFixed(0)} ms)`,
    );
  }
  if (trace) {
    const file = path.join(require("node:os").tmpdir(), `hearth-tti-${process.pid}.json`);
    const context = await browser.newContext({ storageState: state });
    const { interactive } = await once(context, file);
    await context.close();
    breakdown(JSON.parse(fs.readFileSync(file, "utf8")), interactive);
    fs.unlinkSync(file);
  }
  await browser.close();
}

// The renderer's main thread, from the trace: the time of each kind of
// top-level work up to "interactive". Nested events are not counted twice:
// only each kind's outermost event counts.
function breakdown(trace, interactive) {
  const events = trace.traceEvents ?? trace;
  const names = new Map();
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name") names.set(`${e.pid}:${e.tid}`, e.args.name);
  }
  const kinds = [
    ["compiling WASM functions (lazily, on first call)", /^wasm\.CompileLazy$/],
    ["running script (what V8 reports as calls and tasks; compiling is counted apart)", /^(FunctionCall|v8\.callFunction|EvaluateScript|v8\.run|v8\.execute|RunMicrotasks|TimerFire|FireAnimationFrame|EventDispatch)$/],
    ["style and layout", /^(UpdateLayoutTree|Layout)$/],
    ["painting", /^(Paint|PrePaint|Layerize)$/],
    ["parsing HTML", /^ParseHTML$/],
  ];
  const main = events.filter((e) => e.ph === "X" && names.get(`${e.pid}:${e.tid}`) === "CrRendererMain");
  const start = Math.min(...main.filter((e) => e.name === "ParseHTML").map((e) => e.ts));
  const end = start + interactive * 1000;
  console.log(`one traced cold load, interactive at ${interactive.toFixed(0)} ms (tracing slows it); main thread:`);
  for (const [label, pattern] of kinds) {
    const spans = main.filter((e) => pattern.test(e.name) && e.ts < end).sort((a, b) => a.ts - b.ts);
    let total = 0;
    let reach = -Infinity;
    let count = 0;
    for (const e of spans) {
      if (e.ts >= reach) {
        total += e.dur;
        count += 1;
        reach = e.ts + e.dur;
      }
    }
    console.log(`  ${(total / 1000).toFixed(0).padStart(6)} ms  ${label} (${count})`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
