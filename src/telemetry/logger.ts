/**
 * Structured logs (pino). Credentials must never reach a log line: the gateway does not log
 * headers, variables or bodies at all, and redaction catches the sensitive keys should anyone
 * add them to a log call later.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

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

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'kibo-auth-gateway' },
  };
  if (destination) return pino(options, destination);
  // A person at a terminal gets readable lines; pipes and log shippers get JSON. Redaction
  // happens before either.
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== 'production';
  return pino(
    pretty
      ? {
          ...options,
          transport: {
            target: 'pino-pretty',
            options: { ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' },
          },
        }
      : options,
  );
}
