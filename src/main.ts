/** `npm start`: reads the environment, starts the embedded emulator if Kibo is not configured, serves. */
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { DEMO } from './emulator/demo-data.js';
import type { RunningEmulator } from './emulator/server.js';
import { startGateway } from './http/listener.js';
import { createLogger } from './telemetry/logger.js';

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
});
logger.info(
  { graphiql: `http://localhost:${gateway.port}/graphql`, kibo: emulator ? 'embedded emulator' : kiboBaseUrl },
  `GraphiQL is at http://localhost:${gateway.port}/graphql`,
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing in-flight requests');
    void gateway
      .stop()
      .then(() => emulator?.close())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      });
  });
}
