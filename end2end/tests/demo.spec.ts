import { expect, test } from "./fixtures";
import { signIn } from "./helpers";

test("in the seeded demo Bob has nothing unread from Alice: his reply is the last message", async ({ page }) => {
  await signIn(page, "bob@example.com", "secret123");
  const seed = page.getByRole("region", { name: "Direct messages" }).locator(".room-link", { hasText: "Alice Liddell" });
  await expect(seed).toContainText("You: Hey Alice!");
  await expect(seed.locator(".unread")).toHaveCount(0);
});
