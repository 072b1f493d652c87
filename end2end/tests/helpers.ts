import { expect, type Page } from "@playwright/test";

/** A username no earlier run has taken. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/**
 * Runs `act` until `check` passes: an interaction made before the WASM has
 * hydrated does nothing, so this fails only if hydration never happens.
 */
export async function whenHydrated(act: () => Promise<void>, check: () => Promise<void>) {
  await expect(async () => {
    await act();
    await check();
  }).toPass({ timeout: 45_000, intervals: [250, 500, 1000] });
}

export async function signIn(page: Page, login: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email or username").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Collects uncaught page errors, such as a failed hydration. */
export function trackPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

import type { APIRequestContext, Browser, BrowserContext } from "@playwright/test";

export type User = { id: number; username: string; name: string };

/** Registers a fresh user through the JSON API; the context is then signed in as them. */
export async function registerUser(context: BrowserContext, prefix: string): Promise<User> {
  const username = uniqueName(prefix);
  const name = `${prefix[0].toUpperCase()}${prefix.slice(1)} ${username.slice(-4)}`;
  const response = await context.request.post("/users", {
    data: { user: { email: `${username}@example.com`, username, password: "secret123", name } },
  });
  expect(response.status()).toBe(201);
  const body = await response.json();
  return { id: body.user.id, username, name };
}

/** The initials an avatar without a picture shows for `name` (components/avatar.rs): its first and last words' first letters. */
export function initialsOf(name: string): string {
  const words = name.split(/\s+/).filter((w) => w.length > 0);
  const picked = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return picked.map((w) => w[0].toUpperCase()).join("");
}

export async function createRoom(request: APIRequestContext, data: object): Promise<number> {
  const response = await request.post("/conversations", { data });
  expect([200, 201]).toContain(response.status());
  return (await response.json()).id;
}

export async function postMessage(request: APIRequestContext, room: number, body: string) {
  const response = await request.post(`/conversations/${room}/messages`, { data: { body } });
  expect(response.status()).toBe(201);
  return response.json();
}

/** Opens the room, waits until its live subscription is confirmed, and returns the page's response. */
/** The unread count the room list gives `request`'s user for `room`. */
export async function unread(request: APIRequestContext, room: number): Promise<number> {
  const response = await request.get("/conversations");
  expect(response.status()).toBe(200);
  const rooms: { id: number; unread_count: number }[] = await response.json();
  return rooms.find((r) => r.id === room)!.unread_count;
}

export async function openLive(page: Page, room: number) {
  const response = await page.goto(`/rooms/${room}`);
  await expect(page.locator(".chat")).toHaveAttribute("data-live", "true", { timeout: 30_000 });
  return response;
}

/** Sends `text` from the composer and waits until the server has confirmed it. */
export async function send(page: Page, text: string) {
  const composer = page.getByLabel("Message", { exact: true });
  await composer.fill(text);
  await composer.press("Enter");
  await expect(page.locator("article.message:not(.pending) .body", { hasText: text })).toBeVisible();
}

/** Two people in their own direct room, each with a page. */
export async function pair(browser: Browser) {
  const aliceContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const alice = await registerUser(aliceContext, "alice");
  const bob = await registerUser(bobContext, "bob");
  const room = await createRoom(aliceContext.request, { participant_ids: [bob.id] });
  const alicePage = await aliceContext.newPage();
  const bobPage = await bobContext.newPage();
  return { alice, bob, room, aliceContext, bobContext, alicePage, bobPage };
}

export async function closeAll(...contexts: BrowserContext[]) {
  for (const context of contexts) await context.close();
}
