import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "./fixtures";
import { signIn } from "./helpers";

// Invitations on the admin page: one past its time says so and offers no
// Revoke, and the link shown once goes away when its invitation is revoked.
// In the demo, Alice is the admin.

async function signInAsAdmin(page: Page) {
  await signIn(page, "alice@example.com", "secret123");
  await expect(page.locator(".whoami")).toHaveText("Alice Liddell");
}

/** Waits until the page has hydrated: the theme toggle claims a state only then. */
async function hydrated(page: Page) {
  await expect(page.locator(".theme-toggle[aria-pressed]")).toHaveCount(1, { timeout: 45_000 });
}

// The SQLite database of the server under test: scripts/e2e-sqlite.sh's data
// dir (HEARTH_E2E_DATA, by default target/e2e-data).
const database = join(process.env.HEARTH_E2E_DATA ?? join(__dirname, "..", "..", "target", "e2e-data"), "hearth.db");

function sqlite(sql: string) {
  execFileSync("sqlite3", ["-cmd", ".timeout 5000", database, sql]);
}

function haveSqlite(): boolean {
  try {
    execFileSync("sqlite3", ["-version"]);
    return existsSync(database);
  } catch {
    return false;
  }
}

test("an invitation past its time shows as expired, with nothing to revoke", async ({ page }) => {
  test.skip(!haveSqlite(), `needs the sqlite3 command and the server's database (${database})`);
  await signInAsAdmin(page);
  const made = await page.request.post("/admin/invitations", { data: { expires_in_hours: 1, max_uses: 1 } });
  expect(made.status()).toBe(201);
  const { id } = await made.json();
  // The smallest lifetime is an hour: its time is moved into the past.
  sqlite(`UPDATE invitations SET expires_at = '2001-01-01T00:00:00.000000Z' WHERE id = ${Number(id)}`);
  await page.goto("/admin");
  const row = page.locator(`tr.invitation[data-id="${id}"]`);
  await expect(row.locator("td").nth(3)).toHaveText("Expired");
  await expect(row.getByRole("button", { name: "Revoke" })).toHaveCount(0);
  await hydrated(page);
  await expect(row.locator("td").nth(3)).toHaveText("Expired");
  await expect(row.getByRole("button", { name: "Revoke" })).toHaveCount(0);
});

test("revoking the invitation just made takes its link away", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/admin");
  await hydrated(page);
  await page.getByLabel("Expires in hours").fill("24");
  await page.getByLabel("Max uses").fill("1");
  const link = page.locator("input.invitation-link");
  await page.getByRole("button", { name: "Create invitation" }).click();
  await expect(link).toHaveValue(/\/register\?invitation=[0-9a-f]{64}$/);
  // The newest invitation is listed first: the one just made.
  const row = page.locator("tr.invitation").first();
  await expect(row.locator("td").nth(3)).toHaveText("Open");
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row.locator("td").nth(3)).toHaveText("Revoked");
  await expect(link).toHaveCount(0);
  await expect(page.getByText("Invitation link (shown once)")).toHaveCount(0);
});
