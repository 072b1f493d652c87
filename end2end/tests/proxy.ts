import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy on loopback in front of the server under test, to break links
 * the way real networks do, without the browser being told: a connection
 * can go silent both ways while staying open (a Wi-Fi to mobile switch, a
 * NAT that forgot it), which no `offline` event reports.
 */
export interface Proxy {
  /** The proxy's own base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** Every connection open now goes silent, both ways; new ones still pass. */
  silenceOpen(): void;
  /** The next connection that carries a request whose first line holds `path` goes silent from that request on. */
  silenceNextRequestTo(path: string): void;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  silent: boolean;
}

export async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target);
  const links = new Set<Link>();
  let silencePath: string | null = null;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const link: Link = { client, upstream, silent: false };
    links.add(link);
    client.on("data", (data) => {
      if (silencePath !== null && data.subarray(0, 200).toString("latin1").split("\r\n")[0].includes(silencePath)) {
        silencePath = null;
        link.silent = true;
      }
      if (!link.silent) upstream.write(data);
    });
    upstream.on("data", (data) => {
      if (!link.silent) client.write(data);
    });
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    // A silenced link stays open until the browser gives up on it.
    client.on("close", end);
    client.on("error", end);
    upstream.on("close", () => {
      if (!link.silent) end();
    });
    upstream.on("error", () => {
      if (!link.silent) end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    silenceOpen() {
      for (const link of links) link.silent = true;
    },
    silenceNextRequestTo(path: string) {
      silencePath = path;
    },
    async close() {
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
