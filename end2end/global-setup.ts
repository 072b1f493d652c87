import { request } from "@playwright/test";

// Waits (up to 120 s) for the server that `make e2e` started, then takes the
// demo's General off the rooms every new account joins: each spec registers
// its own people and expects them to start in no room. default-rooms.spec
// adds a room of its own, and takes it off again.
export default async function globalSetup() {
  await healthy();
  await noDefaultRooms();
}

async function noDefaultRooms() {
  const base = process.env.HEARTH_E2E_URL ?? "http://127.0.0.1:3100";
  const admin = await request.newContext({ baseURL: base });
  try {
    const signIn = await admin.post("/users/sign_in", { data: { user: { login: "alice@example.com", password: "secret123" } } });
    if (!signIn.ok()) throw new Error(`signing in as the demo's admin: ${signIn.status()}`);
    const rooms = (await (await admin.get("/admin/default_rooms")).json()) as { id: number }[];
    for (const room of rooms) {
      const removed = await admin.delete(`/admin/default_rooms/${room.id}`);
      if (!removed.ok()) throw new Error(`taking room ${room.id} off the default rooms: ${removed.status()}`);
    }
  } finally {
    await admin.dispose();
  }
}

async function healthy() {
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
