/**
 * Structured logs (pino). Credentials must never reach a log line: the gateway does not log
 * headers, variables or bodies at all, and redaction catches the sensitive keys should anyone
 * add them to a log call later.
 *
 * Cheap at `info`, where the gateway writes one line per request: that line goes through a child
 * logger with fixed redaction paths (wildcard paths cost ~10 µs a line, as much as the rest of the
 * line), and lines leave in batches, on a pipe written on the main thread without waiting for the
 * reader (log-writer.ts).
 */
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { LogWriter, openStdoutOfOwn } from './log-writer.js';

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
  // happens before either. Asked of the descriptor, not of process.stdout: creating that stream
  // makes a piped fd 1 non-blocking for every process sharing it, which the writer leaves alone.
  if (isatty(1) && process.env.NODE_ENV !== 'production')
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' } },
    });
  return pino(options, stdoutDestination());
}

/** There is one stdout: every logger made for it shares one destination (one batch, one exit flush). */
let sharedStdoutDestination: DestinationStream | undefined;

function stdoutDestination(): DestinationStream {
  if (sharedStdoutDestination) return sharedStdoutDestination;
  const own = openStdoutOfOwn();
  // On a pipe or a terminal: batched, written on the main thread without ever waiting for the reader
  // (log-writer.ts).
  sharedStdoutDestination = own === undefined ? threadPoolWriter() : new LogWriter(own);
  return sharedStdoutDestination;
}

/**
 * A file or a socket (journald's) gets libuv's thread pool to do the writes: neither can be given a
 * non-blocking descriptor of its own (a socket cannot be reopened; a file never pushes back).
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
