/** `npm start`: reads the environment, starts the embedded emulator if Kibo is not configured, serves. */
// First, before any other module allocates: V8 settings the gateway makes for itself.
import './heap-tuning.js';
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { DEMO } from './emulator/demo-data.js';
import type { RunningEmulator } from './emulator/server.js';
import { startGateway } from './http/listener.js';
import { createLogger, flushLogs } from './telemetry/logger.js';

let config: GatewayConfig;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
let emulator: RunningEmulator | undefined;
let kiboBaseUrl = config.kiboBaseUrl;
if (!kiboBaseUrl) {
  // Imported only when needed: a deployment against real Kibo never loads the emulator.
  const { startEmulator } = await import('./emulator/server.js');
  emulator = await startEmulator();
  kiboBaseUrl = emulator.url;
  logger.info(
    { emulator: emulator.url },
    'KIBO_BASE_URL is not set: started the embedded Kibo emulator with its demo identity',
  );
}

const gateway = await startGateway({
  config,
  kiboBaseUrl,
  logger,
  graphiqlHeaders: emulator
    ? { Authorization: `Bearer ${DEMO.appToken}`, 'X-Kibo-Refresh-Token': DEMO.refreshToken }
    : undefined,
}).catch((error: unknown) => {
  // A manifest that does not load is configuration too: say which variable, not a stack.
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
});
logger.info(
  { graphiql: `http://localhost:${gateway.port}/graphql`, kibo: emulator ? 'embedded emulator' : kiboBaseUrl },
  `GraphiQL is at http://localhost:${gateway.port}/graphql`,
);
// Log lines leave in batches: the start-up lines are worth seeing now.
void flushLogs(logger);

// The drain sequence (http/drain.ts), then everything that buffers: the exit code says whether it
// went cleanly. `once`: a second Ctrl-C during the drain delay ends the process at once.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info(
      { signal, drainDelayMs: config.shutdownDrainDelayMs, graceMs: config.shutdownGraceMs },
      'shutting down: /ready answers 503, then in-flight requests finish',
    );
    void gateway
      .drain()
      .then(() => emulator?.close())
      .then(() => logger.info('stopped'))
      .then(() => flushLogs(logger))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('shutdown failed:', error instanceof Error ? error.message : String(error));
          process.exit(1);
        },
      );
  });
}
