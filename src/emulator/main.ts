/** `npm run emulator`: the Kibo emulator on its own, for poking at the REST side directly. */
import { ConfigError } from '../config.js';
import { DEMO } from './demo-data.js';
import { emulatorOptionsFromEnv } from './env.js';
import { startEmulator } from './server.js';
import { REFRESH_TICKET_PATH } from './spec.js';

let options;
try {
  options = emulatorOptionsFromEnv();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const emulator = await startEmulator(options);
console.log(`Kibo emulator listening on ${emulator.url}`);
console.log(
  `Try: curl -X PUT '${emulator.url}${REFRESH_TICKET_PATH}?tenantId=${DEMO.tenantIds.first + 1}&responseFields=accessToken,tenant(id,name)' ` +
    `-H 'Authorization: Bearer ${DEMO.appToken}' -H 'Content-Type: application/json' -d '{"refreshToken":"${DEMO.refreshToken}"}'`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulator.close().then(() => process.exit(0)));
}
