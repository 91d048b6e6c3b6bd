/**
 * The whole product on ephemeral loopback ports — a real emulator and a real gateway — plus the
 * means to talk to it over HTTP (undici) and to see what it logged and what Kibo received.
 */
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { request } from 'undici';
import { loadConfig, type GatewayConfig } from '../../src/config.js';
import { DEMO } from '../../src/emulator/demo-data.js';
import {
  CLIENT_PATH_PREFIX,
  startEmulator,
  type EmulatorOptions,
  type ReceivedRequest,
  type RunningEmulator,
} from '../../src/emulator/server.js';
import { startGateway, type RunningGateway } from '../../src/http/listener.js';
import type { UpstreamCallEvent } from '../../src/kibo/client.js';
import { createLogger } from '../../src/telemetry/logger.js';

export const DEMO_HEADERS = {
  authorization: `Bearer ${DEMO.appToken}`,
  'x-kibo-refresh-token': DEMO.refreshToken,
} as const;

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: {
    data?: T | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
  };
}

export interface RequestOptions<V> {
  variables?: V;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Stack {
  /** The emulator, to share with another stack; read what it received through `received`. */
  emulator: RunningEmulator;
  gateway: RunningGateway;
  /** Every log line the gateway wrote, raw. */
  logs: string[];
  upstreamCalls: UpstreamCallEvent[];
  /**
   * What the emulator received from this stack's gateway since the last reset, oldest first; never
   * another stack's requests, even when the emulator is shared.
   */
  readonly received: ReceivedRequest[];
  /** responseFields of this stack's ticket requests since the last reset. */
  receivedResponseFields(): Array<string | null>;
  /** Forgets this stack's records (and only this stack's). */
  resetRecords(): void;
  /** A generated typed document checks the variables and types the answer; a string is taken as is. */
  graphql<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    options: RequestOptions<V>,
  ): Promise<GraphQLResponse<T>>;
  graphql<T = Record<string, unknown>>(
    query: string,
    options?: RequestOptions<Record<string, unknown>>,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Share another stack's emulator (it stays open when this stack closes). */
  sharedEmulator?: RunningEmulator;
}

let stacksStarted = 0;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator = options.sharedEmulator ?? (await startEmulator({ faultInjection: true, ...options.emulator }));
  // Each stack's gateway calls the emulator under its own base path, which the emulator records.
  const client = `stack-${++stacksStarted}`;
  const received = () => emulator.received.filter((record) => record.client === client);
  // The entity cache is off unless a test turns it on (ENTITY_CACHE: 'on'): most suites assert the
  // exact Kibo traffic of one request, which the cache changes on purpose (test/cache/ covers it).
  const config: GatewayConfig = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    ENTITY_CACHE: 'off',
    ...options.env,
  });
  const logs: string[] = [];
  const logSink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const upstreamCalls: UpstreamCallEvent[] = [];
  const gateway = await startGateway({
    config,
    kiboBaseUrl: `${emulator.url}${CLIENT_PATH_PREFIX}${client}`,
    logger: createLogger(config.logLevel, logSink),
    onUpstreamCall: (event) => upstreamCalls.push(event),
  });

  return {
    emulator,
    gateway,
    logs,
    upstreamCalls,
    get received() {
      return received();
    },
    receivedResponseFields: () =>
      received()
        .filter((r) => r.method === 'PUT')
        .map((r) => r.responseFields),
    resetRecords: () => {
      const others = emulator.received.filter((record) => record.client !== client);
      emulator.received.splice(0, emulator.received.length, ...others);
      upstreamCalls.length = 0;
    },
    async graphql(
      document: string | TypedDocumentNode,
      { variables, headers = DEMO_HEADERS, signal }: RequestOptions<unknown> = {},
    ) {
      const query = typeof document === 'string' ? document : print(document);
      const response = await request(gateway.graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
        signal,
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: (await response.body.json()) as GraphQLResponse['body'],
      } as never;
    },
    async close() {
      await gateway.stop(0);
      if (!options.sharedEmulator) await emulator.close();
    },
  };
}

/** Runs `use` against a stack started for it alone (often sharing another's emulator), then closes it. */
export async function withStack<T>(options: StackOptions, use: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack(options);
  try {
    return await use(stack);
  } finally {
    await stack.close();
  }
}
