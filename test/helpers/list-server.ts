/**
 * A real HTTP server on 127.0.0.1 (port chosen by the system) that serves blacklists the way
 * upstream hosts do, and misbehaves on request: conditional GETs answered with 304, error
 * statuses, garbage, reset connections, slow answers, bodies larger than declared or endless,
 * redirects and redirect loops. Routes can be changed between requests; every request is logged.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Route {
  status?: number;
  body?: string | Buffer;
  /** Sent as ETag; a request with a matching If-None-Match gets 304. */
  etag?: string;
  /** Sent as Last-Modified; a request whose If-Modified-Since is not older gets 304. */
  lastModified?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering at all. */
  delayMs?: number;
  /** Chunked body, a small chunk every 50 ms, never ending. */
  drip?: boolean;
  /** Chunked body, 64 KiB chunks as fast as the client takes them, never ending. */
  flood?: boolean;
  /** Close the connection abruptly (TCP reset) after reading the request. */
  reset?: boolean;
  /** 302 to this location (relative or absolute). */
  redirect?: string;
}

export interface ListServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  url(path: string): string;
  routes: Map<string, Route>;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  /** Requests for one path, in order. */
  requestsFor(path: string): IncomingHttpHeaders[];
  /** Bytes written by flood routes so far (to show the client stopped reading). */
  flooded: number;
  close(): Promise<void>;
}

export async function startListServer(routes: Record<string, Route> = {}): Promise<ListServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const s: ListServer = {
    origin: '',
    url: (path) => `${s.origin}${path}`,
    routes: new Map(Object.entries(routes)),
    requests: [],
    requestsFor: (path) => s.requests.filter((r) => r.path === path).map((r) => r.headers),
    flooded: 0,
    close: () =>
      new Promise((res) => {
        for (const t of timers) clearInterval(t);
        for (const sock of sockets) sock.destroy();
        server.close(() => res());
      }),
  };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    s.requests.push({ path, headers: req.headers });
    const route = s.routes.get(path);
    const answer = () => {
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      if (route.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      if (route.redirect !== undefined) {
        res.writeHead(302, { location: route.redirect }).end();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...route.headers };
      if (route.etag !== undefined) headers.etag = route.etag;
      if (route.lastModified !== undefined) headers['last-modified'] = route.lastModified;
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      const notModified =
        (route.etag !== undefined && inm !== undefined && inm === route.etag) ||
        (inm === undefined && route.lastModified !== undefined && ims !== undefined && Date.parse(ims) >= Date.parse(route.lastModified));
      if (notModified && (route.status ?? 200) === 200) {
        res.writeHead(304, headers).end();
        return;
      }
      if (route.drip || route.flood) {
        res.writeHead(route.status ?? 200, headers); // no content-length: chunked
        if (route.drip) {
          const t = setInterval(() => res.write('203.0.113.1\n'), 50);
          timers.add(t);
          res.on('close', () => clearInterval(t));
        } else {
          const chunk = Buffer.alloc(64 * 1024, '198.51.100.1\n');
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) s.flooded += chunk.length;
            if (!res.destroyed) s.flooded += chunk.length;
          };
          res.on('drain', pump);
          pump();
        }
        return;
      }
      // Declared, as static file servers do (writeHead alone would send the body chunked).
      const body = route.body ?? '';
      headers['content-length'] ??= String(Buffer.byteLength(body));
      res.writeHead(route.status ?? 200, headers).end(body);
    };
    if (route?.delayMs) {
      const t = setTimeout(answer, route.delayMs);
      timers.add(t);
    } else answer();
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  s.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}
