import { defineConfig } from "@playwright/test";

// `make e2e` starts the server scripts/build-site.sh built (scripts/e2e-sqlite.sh, or two
// instances on Postgres in scripts/e2e-postgres.sh) and stops it by PID;
// global-setup.ts waits for /healthz before any test runs.
const baseURL = process.env.HEARTH_E2E_URL ?? "http://127.0.0.1:3100";
// `make e2e` runs every spec on SQLite, then only the smoke spec and the
// two-instance spec against servers on Postgres (scripts/e2e-postgres.sh sets
// HEARTH_E2E_BACKEND).
const onPostgres = process.env.HEARTH_E2E_BACKEND === "postgres";
const onPostgresOnly = ["**/postgres.smoke.spec.ts", "**/cluster.postgres.spec.ts"];

export default defineConfig({
  testDir: "./tests",
  ...(onPostgres ? { testMatch: onPostgresOnly } : { testIgnore: onPostgresOnly }),
  globalSetup: "./global-setup.ts",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  // The JSON report lets `make e2e` check that tests really ran.
  reporter: [["list"], ["json", { outputFile: onPostgres ? ".results/postgres.json" : ".results/results.json" }]],
  use: {
    baseURL,
    browserName: "chromium",
    headless: true,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
