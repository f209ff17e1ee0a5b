/**
 * A small HTTP proxy between a client and the live server, to cause the failures a network
 * causes: an answer lost after the server acted on the request, or an answer held back until
 * the test lets it through. Every request it sees is recorded.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** A request the proxy saw, and what the server answered it. */
export interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  status?: number;
  body?: string;
  /** The server's answer never reached the client. */
  lost?: boolean;
}

type Fault = { kind: "lose" } | { kind: "hold"; release: Promise<void> };

/** A proxy to `target`, with faults queued for the next requests that match. */
export interface Proxy {
  url: string;
  seen: Seen[];
  /** The server acts on the next request matching `method`, but its answer is lost. */
  loseNextAnswer(method: string): void;
  /** The next answer to `method` waits until the returned function is called. */
  holdNextAnswer(method: string): () => void;
  /** Event streams pass through as they come; this cuts every open one. Returns how many. */
  cutStreams(): number;
  /** While true, every new connection is closed at once (the network is down). */
  refusing: boolean;
  close(): Promise<void>;
}

/** Starts a proxy on a free port in front of `target` (e.g. `http://127.0.0.1:8080`). */
export async function startProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  const faults: { method: string; fault: Fault }[] = [];
  const streams = new Set<import("node:net").Socket>();

  const server = http.createServer((req, res) => {
    if (proxy.refusing) {
      req.socket.destroy();
      return;
    }
    const record: Seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers };
    seen.push(record);
    const index = faults.findIndex((f) => f.method === req.method);
    const fault = index >= 0 ? faults.splice(index, 1)[0]?.fault : undefined;

    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        if (String(answer.headers["content-type"] ?? "").startsWith("text/event-stream")) {
          record.status = answer.statusCode ?? 0;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders();
          answer.pipe(res);
          streams.add(req.socket);
          req.socket.once("close", () => {
            streams.delete(req.socket);
            answer.destroy();
          });
          return;
        }
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", async () => {
          const body = Buffer.concat(chunks);
          record.status = answer.statusCode ?? 0;
          record.body = body.toString("utf8");
          if (fault?.kind === "lose") {
            record.lost = true;
            req.socket.destroy(); // the server acted; the client never hears of it
            return;
          }
          if (fault?.kind === "hold") await fault.release;
          const headers = { ...answer.headers };
          delete headers["transfer-encoding"];
          headers["content-length"] = String(body.length);
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    forward.on("error", () => req.socket.destroy());
    req.pipe(forward);
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: Proxy = {
    refusing: false,
    url: `http://127.0.0.1:${port}`,
    seen,
    loseNextAnswer(method) {
      faults.push({ method, fault: { kind: "lose" } });
    },
    holdNextAnswer(method) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      faults.push({ method, fault: { kind: "hold", release: released } });
      return release;
    },
    cutStreams() {
      const n = streams.size;
      for (const socket of streams) socket.destroy();
      streams.clear();
      return n;
    },
    close() {
      proxy.refusing = true;
      server.closeAllConnections();
      return new Promise((resolve) => {
        server.close(() => resolve());
        // Whatever connection is still closing is not worth waiting for.
        setTimeout(resolve, 2000).unref();
      });
    },
  };
  return proxy;
}
