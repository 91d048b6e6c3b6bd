/**
 * Structured logs (pino). Credentials must never reach a log line: the gateway does not log
 * headers, variables or bodies at all, and redaction catches the sensitive keys should anyone
 * add them to a log call later.
 *
 * Cheap at `info`, where the gateway writes one line per request: that line goes through a child
 * logger with fixed redaction paths (wildcard paths cost ~10 µs a line, as much as the rest of the
 * line), and lines leave in batches on an asynchronous destination, not one write(2) each.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

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
 * Batching: a write once this many bytes are buffered, or at the latest every second. Larger batches
 * cost more, not less: sonic-boom measures the batch string it appends each line to (flattening it),
 * so every line copies the batch so far. 16 KiB batches allocated ~8 KB per request line, 4 KiB ~2 KB.
 */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_INTERVAL_MS = 1000;

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
  // Asynchronous and batched; pino flushes what is buffered synchronously when the process exits.
  return pino(
    options,
    pino.destination({
      dest: 1,
      sync: false,
      minLength: LOG_BATCH_BYTES,
      periodicFlush: LOG_FLUSH_INTERVAL_MS,
    }),
  );
}

/** The logger for the one-line-per-request log: fixed redaction paths, as it runs on every request. */
export function requestLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REQUEST_LINE_REDACTED_PATHS, censor: CENSOR } });
}

/** Writes out what is buffered; resolves once it is written (or at once for a synchronous destination). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
