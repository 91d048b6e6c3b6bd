/** `npm run emulator`: the Kibo emulator on its own, for poking at the REST side directly. */
import { DEMO } from './demo-data.js';
import { startEmulator } from './server.js';
import { REFRESH_TICKET_PATH } from './spec.js';

const port = Number(process.env.EMULATOR_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`Invalid configuration: EMULATOR_PORT must be a port number, got "${process.env.EMULATOR_PORT}"`);
  process.exit(1);
}

const emulator = await startEmulator({
  port,
  host: process.env.EMULATOR_HOST ?? '127.0.0.1',
  // Test and benchmark switches; off unless asked for.
  faultInjection: process.env.EMULATOR_FAULTS === '1',
  exposeStats: process.env.EMULATOR_STATS === '1',
});
console.log(`Kibo emulator listening on ${emulator.url}`);
console.log(
  `Try: curl -X PUT '${emulator.url}${REFRESH_TICKET_PATH}?tenantId=${DEMO.tenantIds.first + 1}&responseFields=accessToken,tenant(id,name)' ` +
    `-H 'Authorization: Bearer ${DEMO.appToken}' -H 'Content-Type: application/json' -d '{"refreshToken":"${DEMO.refreshToken}"}'`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulator.close().then(() => process.exit(0)));
}
