/**
 * `npm run emulator`'s settings from the environment, validated like the gateway's (see
 * src/config.ts): a bad value stops it with a message naming the variable.
 */
import { ConfigError } from '../config.js';
import type { EmulatorOptions } from './server.js';

type Env = Record<string, string | undefined>;

export function emulatorOptionsFromEnv(env: Env = process.env): EmulatorOptions {
  const rawPort = env.EMULATOR_PORT?.trim() || '4010';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535)
    throw new ConfigError('EMULATOR_PORT', `must be a port number, got "${env.EMULATOR_PORT}"`);
  return {
    port,
    host: env.EMULATOR_HOST?.trim() || '127.0.0.1',
    // Test and benchmark switches; off unless asked for.
    faultInjection: env.EMULATOR_FAULTS === '1',
    exposeStats: env.EMULATOR_STATS === '1',
  };
}
