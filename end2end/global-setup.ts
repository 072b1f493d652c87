// Waits (up to 120 s) for the server that `make e2e` started.
export default async function globalSetup() {
  const base = process.env.HEARTH_E2E_URL ?? "http://127.0.0.1:3100";
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`Hearth did not become healthy at ${base}: ${last}`);
}
