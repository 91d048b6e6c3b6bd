/**
 * The proxy floor: the least any Node gateway in front of Kibo must do — accept an HTTP POST, make
 * the upstream call through the same undici pool the gateway uses, return the body. No GraphQL.
 * Run as its own process by the benchmark: PORT, KIBO_BASE_URL, RESPONSE_FIELDS, TENANT_ID.
 */
import { createServer } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { createKiboPool, TICKET_PATH } from '../../src/kibo/client.js';

const config = loadConfig();
const pool = createKiboPool(new URL(config.kiboBaseUrl!).origin, config.upstream);
const query = new URLSearchParams({
  tenantId: process.env.TENANT_ID ?? '100002',
  responseFields: process.env.RESPONSE_FIELDS ?? '',
});
const path = `${TICKET_PATH}?${query}`;

const server = createServer(async (request, response) => {
  // Read the client's body as a gateway must, even though the floor does not parse it.
  for await (const _chunk of request);
  try {
    const upstream = await pool.request({
      method: 'PUT',
      path,
      headers: { authorization: request.headers.authorization ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: request.headers['x-kibo-refresh-token'] }),
    });
    const body = Buffer.from(await upstream.body.arrayBuffer());
    response
      .writeHead(upstream.statusCode, { 'content-type': 'application/json', 'content-length': body.length })
      .end(body);
  } catch {
    response.writeHead(502).end();
  }
});

server.listen(config.port, '127.0.0.1', () => console.log(`proxy floor listening on ${config.port}`));
process.once('SIGTERM', () => server.close(() => void pool.close().then(() => process.exit(0))));
