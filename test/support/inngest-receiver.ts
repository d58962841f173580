// A stand-in for the Inngest dev server's event API, started for every integration test
// file: captures what the app sends with `inngest.send`, and can refuse to model Inngest
// being unreachable. (The real dev server cannot be installed on this machine.)
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type TReceivedEvent = { id?: string; name: string; data: Record<string, unknown> };

export type TInngestReceiver = {
  url: string;
  events(): TReceivedEvent[];
  /** The sends received (POST /e/…), each carrying one or more events. */
  sends(): number;
  /** While down, every request fails (connection closed), as when Inngest is unreachable. */
  setDown(down: boolean): void;
  clear(): void;
  stop(): Promise<void>;
};

export async function startInngestReceiver(): Promise<TInngestReceiver> {
  const received: TReceivedEvent[] = [];
  let sends = 0;
  let down = false;
  const server: Server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url?.startsWith("/e/")) {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "[]");
        const events = (Array.isArray(body) ? body : [body]) as TReceivedEvent[];
        received.push(...events);
        sends++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ids: events.map((e, i) => e.id ?? `evt_${received.length + i}`), status: 200 }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events: () => [...received],
    sends: () => sends,
    setDown: (value) => {
      down = value;
    },
    clear: () => {
      received.length = 0;
      sends = 0;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
