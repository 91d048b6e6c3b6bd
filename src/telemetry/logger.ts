/**
 * Structured logs (pino). Credentials must never reach a log line: the gateway does not log
 * headers, variables or bodies at all, and redaction catches the sensitive keys should anyone
 * add them to a log call later.
 *
 * Cheap at `info`, where the gateway writes one line per request: that line goes through a child
 * logger with fixed redaction paths (wildcard paths cost ~10 µs a line, as much as the rest of the
 * line), and lines leave in batches on an asynchronous destination, not one write(2) each.
 */
import { fstatSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import { LogWriter } from './log-writer.js';

/** Every key a credential could travel under, at the top level or one level down. */
export const REDACTED_PATHS = [
  'authorization',
  'refreshToken',
  'accessToken',
  'jwtAccessToken',
  'cookie',
  '*.authorization',
  '*.refreshToken',
  '*.accessToken',
  '*.jwtAccessToken',
  '*.cookie',
  'headers["x-kibo-refresh-token"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-kibo-refresh-token"]',
  'variables',
  '*.variables',
];

/**
 * The per-request line's own paths: its fields are fixed (method, path, status, operation name,
 * duration), so fixed paths cover any credential key someone might add to it.
 */
export const REQUEST_LINE_REDACTED_PATHS = [
  'authorization',
  'refreshToken',
  'accessToken',
  'jwtAccessToken',
  'cookie',
  'headers',
  'variables',
];

const CENSOR = '[redacted]';

/**
 * How long shutdown waits for a log reader that is not reading. The lines still queued after it are
 * lost; a gateway that never exits because its log shipper hangs would be worse.
 */
const FLUSH_WAIT_MS = 1000;

export type { Logger };

/** The ids of a request's server span, as log fields (tracing on). */
export interface TraceLogFields {
  trace_id: string;
  span_id: string;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    base: { service: 'kibo-auth-gateway' },
  };
  if (destination) return pino(options, destination);
  // A person at a terminal gets readable lines; pipes and log shippers get JSON. Redaction
  // happens before either.
  if (process.stdout.isTTY && process.env.NODE_ENV !== 'production')
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' } },
    });
  return pino(options, stdoutDestination());
}

/** There is one stdout: every logger made for it shares one destination (one batch, one exit flush). */
let sharedStdoutDestination: DestinationStream | undefined;

function stdoutDestination(): DestinationStream {
  return (sharedStdoutDestination ??= stdoutIsPipeOrSocket() ? pipeWriter() : threadPoolWriter());
}

function stdoutIsPipeOrSocket(): boolean {
  try {
    const stat = fstatSync(1);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/** Batched, written on the main thread without ever waiting for the reader (log-writer.ts). */
function pipeWriter(): LogWriter {
  // Creating Node's stdout stream is what makes fd 1 non-blocking on a pipe or socket (libuv opens
  // it so); the writer relies on that, and writes to fd 1 itself.
  void process.stdout;
  return new LogWriter(1);
}

/**
 * A terminal or a file: libuv's thread pool does the writes. On a terminal Node's own writes would
 * block (a paused terminal would stop the gateway); a file never pushes back, so its writes cost
 * nothing worth batching on the main thread for.
 */
function threadPoolWriter(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 });
}

/** The logger for the one-line-per-request log: fixed redaction paths, as it runs on every request. */
export function requestLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REQUEST_LINE_REDACTED_PATHS, censor: CENSOR } });
}

/**
 * Writes out what is batched; resolves once the reader has taken it, or after `waitMs` if it is not
 * reading.
 */
export function flushLogs(logger: Logger, waitMs = FLUSH_WAIT_MS): Promise<void> {
  return new Promise((resolve) => {
    const gaveUp = setTimeout(resolve, waitMs);
    logger.flush(() => {
      clearTimeout(gaveUp);
      resolve();
    });
  });
}

/** Lines the stdout writer dropped because its reader fell behind or left (0 for any other destination). */
export function droppedLogLines(logger: Logger): number {
  const destination = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return destination instanceof LogWriter ? destination.droppedLines : 0;
}
