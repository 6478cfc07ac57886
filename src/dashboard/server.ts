/**
 * The dashboard's HTTP server: loopback only, read-only, one page with its assets served from the
 * package (no CDN: a lab has no internet), the run's events as Server-Sent Events, and the run
 * directory's files for the evidence links. The run directory is treated as hostile: only plain
 * names inside it, no symlinks, regular files only. A Host check refuses pages of other sites that
 * resolve their name to 127.0.0.1 (DNS rebinding), and a Content Security Policy allows nothing
 * but this server.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DashboardError } from './errors.js';
import type { DashboardHub } from './hub.js';

export const LOOPBACK = '127.0.0.1';

/** The page may load only what this server serves, and talk only to it. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/**
 * A file from the run directory (report.html, a capture) opens as an opaque origin (`sandbox`):
 * even a forged report cannot read the dashboard's data or reach the network. The report's own
 * inline scripts and styles (src/evidence/html-report.ts) still run.
 */
const FILE_CSP = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** Text files of a run directory shown in the browser; anything else is a download. */
const TEXT_TYPES: Record<string, string> = {
  '.json': 'text/plain; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.yaml': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.xml': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** One path segment of a file inside a run directory: no dot files, no `..`, no separators. */
const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$/;

export interface DashboardServerOptions {
  hub: DashboardHub;
  /** Only 127.0.0.1 is accepted; anything else is refused (exit 2). */
  host?: string;
  /** 0 (the default) lets the system choose a free port. */
  port?: number;
  /** The run directory whose files the evidence links open; unknown until the run has started. */
  runDir?: () => string | undefined;
  /** Sent every so often on an idle event stream, so a proxy or the browser keeps it open (ms). */
  keepAliveMs?: number;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  /** Ends every event stream and closes the server. */
  close(): Promise<void>;
}

interface Asset {
  type: string;
  file: string;
}

/** The page's own files (src/dashboard/page/, beside this module in the source tree) and uPlot from node_modules. */
function assets(): Record<string, Asset> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/dashboard/ or src/dashboard/: the page's files stay in src/ (tsc copies no assets).
  const page = path.resolve(here, '../../src/dashboard/page');
  const uplot = path.dirname(createRequire(import.meta.url).resolve('uplot'));
  return {
    '/': { type: 'text/html; charset=utf-8', file: path.join(page, 'index.html') },
    '/app.js': { type: 'text/javascript; charset=utf-8', file: path.join(page, 'app.js') },
    '/app.css': { type: 'text/css; charset=utf-8', file: path.join(page, 'app.css') },
    '/uplot.js': { type: 'text/javascript; charset=utf-8', file: path.join(uplot, 'uPlot.iife.min.js') },
    '/uplot.css': { type: 'text/css; charset=utf-8', file: path.join(uplot, 'uPlot.min.css') },
  };
}

function baseHeaders(res: http.ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  baseHeaders(res, PAGE_CSP);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

function json(res: http.ServerResponse, value: unknown): void {
  baseHeaders(res, PAGE_CSP);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

/**
 * Resolves `rel` (from the URL) to a regular file inside `root`, or a reason it is refused.
 * Every segment must be a plain name; the real path (symlinks resolved) must stay inside the
 * real root; the file itself must not be a symlink.
 */
export function resolveRunFile(root: string, rel: string): { file: string } | { refused: string } {
  const segments = rel.split('/');
  if (segments.length > 4 || !segments.every((s) => SAFE_SEGMENT.test(s))) return { refused: 'not a plain file name inside the run directory' };
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return { refused: 'the run directory is gone' };
  }
  const file = path.join(realRoot, ...segments);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return { refused: 'no such file' };
  }
  if (real !== file || !real.startsWith(realRoot + path.sep)) return { refused: 'outside the run directory (a link)' };
  return { file };
}

function serveRunFile(res: http.ServerResponse, root: string | undefined, rel: string): void {
  if (!root) return plain(res, 404, 'the run has not started yet');
  const r = resolveRunFile(root, rel);
  if ('refused' in r) return plain(res, r.refused === 'no such file' ? 404 : 403, `refused: ${r.refused}`);
  let fd: number;
  try {
    fd = fs.openSync(r.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return plain(res, 404, 'no such file');
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    return plain(res, 403, 'refused: not a regular file');
  }
  const ext = path.extname(r.file).toLowerCase();
  const type = TEXT_TYPES[ext];
  baseHeaders(res, FILE_CSP);
  res.writeHead(200, {
    'Content-Type': type ?? 'application/octet-stream',
    'Content-Length': String(st.size),
    // Captures and other binary evidence are downloads, opened in Wireshark, never in the page.
    ...(type ? {} : { 'Content-Disposition': `attachment; filename="${path.basename(r.file)}"` }),
  });
  // Streamed with the size seen now: a capture still growing is sent as far as it was.
  const stream = fs.createReadStream('', { fd, start: 0, end: Math.max(0, st.size - 1), autoClose: true });
  if (st.size === 0) {
    stream.destroy();
    res.end();
    return;
  }
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const host = opts.host ?? LOOPBACK;
  if (host !== LOOPBACK) {
    throw new DashboardError('AIRLOCK_DASHBOARD_BIND', `the dashboard listens on ${LOOPBACK} only (asked for ${host}): it is for the bench's own screen; reach it from elsewhere through an SSH tunnel`);
  }
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DashboardError('AIRLOCK_DASHBOARD_PORT', `not a port number: ${port}`);
  const files = assets();
  const cache = new Map<string, Buffer>();
  const hub = opts.hub;
  const streams = new Set<http.ServerResponse>();
  let boundPort = 0;

  const server = http.createServer((req, res) => {
    // DNS rebinding: a page of another site whose name resolves to 127.0.0.1 sends its own Host.
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (hostHeader !== `${LOOPBACK}:${boundPort}` && hostHeader !== `localhost:${boundPort}`) return plain(res, 421, 'refused: unexpected Host header');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'read-only: only GET and HEAD');
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', `http://${LOOPBACK}`).pathname);
    } catch {
      return plain(res, 400, 'bad URL');
    }
    const asset = files[pathname];
    if (asset) {
      let body = cache.get(pathname);
      if (!body) {
        body = fs.readFileSync(asset.file);
        cache.set(pathname, body);
      }
      baseHeaders(res, PAGE_CSP);
      res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': String(body.length) });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (pathname === '/api/state') return json(res, hub.state.snapshot());
    if (pathname === '/api/history') return json(res, hub.state.history.payload());
    if (pathname === '/events') {
      baseHeaders(res, PAGE_CSP);
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
      // The whole (bounded) state first, then every event as it comes, as `--json` prints it.
      res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(hub.state.snapshot())}\n\n`);
      const unsubscribe = hub.subscribe((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), opts.keepAliveMs ?? 15_000);
      keepAlive.unref();
      streams.add(res);
      const end = () => {
        unsubscribe();
        clearInterval(keepAlive);
        streams.delete(res);
      };
      req.on('close', end);
      res.on('close', end);
      return;
    }
    if (pathname.startsWith('/files/')) return serveRunFile(res, opts.runDir?.() ?? hub.state.runDir, pathname.slice('/files/'.length));
    return plain(res, 404, 'not found');
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new DashboardError(
          'AIRLOCK_DASHBOARD_PORT',
          e.code === 'EADDRINUSE' ? `port ${port} on ${LOOPBACK} is in use: give another with --port, or none to let the system choose` : `cannot listen on ${LOOPBACK}:${port}: ${e.message}`,
          { cause: e },
        ),
      ),
    );
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => resolve());
  });
  boundPort = (server.address() as AddressInfo).port;

  return {
    url: `http://${LOOPBACK}:${boundPort}/`,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
