// Hearth's service worker (scope /): Web Push with the tab closed.
//
// The server sends two kinds of payload (encrypted per RFC 8291):
//   {"kind":"message","room_id","number","tag":"room-R","title","body","url"}
//     shown as a notification that remembers {url, number, room_id};
//   {"kind":"close","room_id","number","tag"}
//     sent once my read marker in the room reaches `number` on any device:
//     the notification with that tag goes away if it shows a message up to
//     that number (a newer one stays).
// Clicking a notification focuses an open Hearth tab and takes it to the
// room, or opens one. There is no fetch handler: pages and the API never go
// through this worker.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch (_) {
    payload = null;
  }
  if (!payload || typeof payload.tag !== "string") return;
  if (payload.kind === "close") {
    event.waitUntil(closeUpTo(payload.tag, Number(payload.number)));
    return;
  }
  event.waitUntil(
    self.registration.showNotification(payload.title || "Hearth", {
      tag: payload.tag,
      body: payload.body || "",
      icon: "/icon-192.png",
      data: { url: payload.url || "/", number: Number(payload.number), room_id: payload.room_id },
    }),
  );
});

/** Closes the notification tagged `tag` when it shows message `number` or an older one. */
async function closeUpTo(tag, number) {
  const shown = await self.registration.getNotifications({ tag });
  for (const notification of shown) {
    const data = notification.data || {};
    if (typeof data.number === "number" && data.number <= number) notification.close();
  }
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  // Only a path on this site: a payload never sends the user elsewhere.
  const url = new URL(typeof data.url === "string" && /^\/(?![\/\\])/.test(data.url) ? data.url : "/", self.location.origin);
  event.waitUntil(focusOrOpen(url.href));
});

/** Focuses a Hearth tab and takes it to `url`, or opens a new one there. */
async function focusOrOpen(url) {
  const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const tab = tabs.find((client) => new URL(client.url).origin === self.location.origin);
  if (tab) {
    const focused = await tab.focus();
    if (focused.url === url) return focused;
    try {
      // Only a tab this worker controls can be navigated.
      return (await focused.navigate(url)) || focused;
    } catch (_) {
      return self.clients.openWindow(url);
    }
  }
  return self.clients.openWindow(url);
}
