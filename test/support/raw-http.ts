/**
 * HTTP written by hand on a TCP socket, for what no client library will send: broken Host headers,
 * odd request targets, bodies that trickle, requests abandoned halfway.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** The status line's code, or undefined when the server closed without answering. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** Everything received, as text. */
  text: string;
  /** Milliseconds from connecting to the server closing the connection (or the wait running out). */
  closedAfterMs: number;
  /** Whether the server closed the connection (rather than the wait running out). */
  closedByServer: boolean;
}

/** Opens a connection to the loopback port, resolving once connected. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `text` (a whole request, `Connection: close` expected) and reads until the server closes. */
export async function rawRequest(port: number, text: string, waitMs = 5_000): Promise<RawAnswer> {
  const socket = await openSocket(port);
  socket.write(text);
  return readUntilClosed(socket, waitMs);
}

/** Collects what the server sends until it closes the connection or `waitMs` passes. */
export function readUntilClosed(socket: Socket, waitMs: number): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('utf8'), performance.now() - started, closedByServer));
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

function parseAnswer(text: string, closedAfterMs: number, closedByServer: boolean): RawAnswer {
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = split === -1 ? '' : text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: status ? Number(status) : undefined, headers, body, text, closedAfterMs, closedByServer };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) return out;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}
