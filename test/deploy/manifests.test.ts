/**
 * The deploy files (deploy/*.yaml, Dockerfile) checked against the code, so neither side can change
 * alone: probe paths are routes the server serves (readiness the one that turns 503 on drain), ports
 * agree, every variable set is one loadConfig reads and the README documents, the kill timeout
 * outlasts the drain, and the memory limit sits above the benchmark's measured peak.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { HEALTH_PATH, READY_PATH } from '../../src/paths.js';
import { readDockerfile, type Instruction } from '../support/dockerfile.js';
import { ROOT } from '../support/main-process.js';
import { withStack } from '../support/stack.js';

type Manifest = { kind: string; metadata: { name: string }; [key: string]: any };

const manifests: Manifest[] = readdirSync(join(ROOT, 'deploy'))
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, 'deploy', file), 'utf8')).map((doc) => doc.toJS() as Manifest),
  );
const only = (kind: string): Manifest => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found, `exactly one ${kind} in deploy/`).toHaveLength(1);
  return found[0]!;
};
const deployment = only('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configMap = only('ConfigMap');
const secret = only('Secret');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Every variable the pod's environment gets: the ConfigMap's and Secret's keys and any `env` entries. */
function podEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const from = source.configMapRef
      ? manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === source.configMapRef.name)
      : manifests.find((m) => m.kind === 'Secret' && m.metadata.name === source.secretRef?.name);
    expect(from, `envFrom ${JSON.stringify(source)} names a ConfigMap or Secret in deploy/`).toBeDefined();
    Object.assign(env, from!.data ?? {}, from!.stringData ?? {});
  }
  for (const entry of container.env ?? []) env[entry.name] = entry.value;
  return env;
}

/** The variables loadConfig reads, found by letting it read an environment that records each lookup. */
function variablesLoadConfigReads(): Set<string> {
  const read = new Set<string>();
  loadConfig(
    new Proxy({} as Record<string, string | undefined>, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    }),
  );
  return read;
}

function containerPort(nameOrNumber: string | number): number {
  if (typeof nameOrNumber === 'number') return nameOrNumber;
  const port = container.ports.find((entry: { name?: string }) => entry.name === nameOrNumber);
  expect(port, `container port named "${nameOrNumber}"`).toBeDefined();
  return port.containerPort;
}

describe('deploy/ against the code', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.close());

  it('sets only variables loadConfig reads, each one in the README Configuration table, each valid', () => {
    const env = podEnvironment();
    const known = variablesLoadConfigReads();
    expect(known.size).toBeGreaterThan(20);
    for (const name of Object.keys(env)) {
      expect(known, `${name} is not a variable loadConfig reads`).toContain(name);
      expect(README, `${name} is not in the README`).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
    }
    expect(() => loadConfig(env)).not.toThrow();
    // The Secret holds the Kibo host; the ConfigMap does not repeat it.
    expect(Object.keys(secret.stringData ?? secret.data)).toEqual(['KIBO_BASE_URL']);
    expect(configMap.data.KIBO_BASE_URL).toBeUndefined();
  });

  it('probes paths the server serves: readiness turns 503 when draining, liveness stays 200', async () => {
    const readiness = container.readinessProbe.httpGet;
    const liveness = container.livenessProbe.httpGet;
    // The paths the code declares for each job, not merely any route that answers 200 (/graphql would).
    expect(readiness.path).toBe(READY_PATH);
    expect(liveness.path).toBe(HEALTH_PATH);
    await withStack(
      { sharedEmulator: emulator, env: { ...podEnvironment(), PORT: '0', HOST: '127.0.0.1' } },
      async (stack) => {
        const get = async (path: string) => {
          const response = await request(`${stack.gateway.url}${path}`, { reset: true });
          await response.body.dump();
          return response.statusCode;
        };
        expect(await get(readiness.path)).toBe(200);
        expect(await get(liveness.path)).toBe(200);
        const drained = stack.gateway.drain({ drainDelayMs: 2_000, graceMs: 100 });
        expect(await get(readiness.path)).toBe(503);
        expect(await get(liveness.path)).toBe(200);
        await drained;
      },
    );
  });

  it('uses one port everywhere: the configured PORT, the container port, the probes, the Service and the image', () => {
    const port = loadConfig(podEnvironment()).port;
    expect(containerPort('http')).toBe(port);
    expect(containerPort(container.readinessProbe.httpGet.port)).toBe(port);
    expect(containerPort(container.livenessProbe.httpGet.port)).toBe(port);
    const service = only('Service');
    for (const entry of service.spec.ports) expect(containerPort(entry.targetPort)).toBe(port);
    const exposed = readDockerfile()
      .at(-1)!
      .instructions.filter(
        (instruction): instruction is Extract<Instruction, { kind: 'EXPOSE' }> => instruction.kind === 'EXPOSE',
      );
    expect(exposed.map((instruction) => instruction.port)).toEqual([port]);
  });

  it('gives the drain time to finish: termination grace > preStop + drain delay + shutdown grace', () => {
    const config = loadConfig(podEnvironment());
    const preStopMs = 1000 * Number(container.lifecycle?.preStop?.sleep?.seconds ?? 0);
    const execSleep = container.lifecycle?.preStop?.exec?.command?.join(' ').match(/sleep (\d+)/);
    const preStopExecMs = execSleep ? 1000 * Number(execSleep[1]) : 0;
    const budgetMs = preStopMs + preStopExecMs + config.shutdownDrainDelayMs + config.shutdownGraceMs;
    expect(1000 * pod.terminationGracePeriodSeconds).toBeGreaterThan(budgetMs);
    // The grace must let the longest Kibo call finish.
    expect(config.shutdownGraceMs).toBeGreaterThanOrEqual(config.upstream.requestTimeoutMs);
  });

  it('sets memory above the benchmark figures in the README, and scales on CPU with a disruption budget', () => {
    const mebibytes = (quantity: string) => {
      const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
      expect(match, `memory quantity ${quantity} in Mi or Gi`).not.toBeNull();
      return Number(match![1]) * (match![2] === 'Gi' ? 1024 : 1);
    };
    const figure = (label: string) => {
      const match = new RegExp(`\\| ${label}[^|]*\\| ([\\d.]+) MiB \\|`).exec(README);
      expect(match, `README benchmark row "${label}"`).not.toBeNull();
      return Number(match![1]);
    };
    expect(mebibytes(container.resources.limits.memory)).toBeGreaterThan(figure('pod RSS peak'));
    expect(mebibytes(container.resources.requests.memory)).toBeGreaterThanOrEqual(figure('pod RSS after the mix'));
    expect(container.resources.requests.cpu).toBeDefined();

    const hpa = only('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics).toEqual([
      expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }),
    ]);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = only('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });
});

describe('Dockerfile', () => {
  const stages = readDockerfile();
  const runtime = stages.at(-1)!;
  const of = <K extends Instruction['kind']>(kind: K) =>
    runtime.instructions.filter(
      (instruction): instruction is Extract<Instruction, { kind: K }> => instruction.kind === kind,
    );

  it('builds in one stage with the dev dependencies and runs the compiled output in another', () => {
    expect(stages).toHaveLength(2);
    const build = stages[0]!;
    const runs = build.instructions.flatMap((instruction) => (instruction.kind === 'RUN' ? [instruction.command] : []));
    expect(runs[0]).toMatch(/^npm ci\b(?!.*--omit=dev)/);
    expect(runs).toContain('npm run build');
    expect(of('RUN').map((instruction) => instruction.command)).toEqual([
      expect.stringMatching(/^npm ci .*--omit=dev/),
    ]);
    const copied = of('COPY');
    expect(copied.filter((instruction) => instruction.from)).toEqual([
      { kind: 'COPY', from: build.name, sources: ['/app/dist'], destination: './dist' },
    ]);
  });

  it('runs as non-root with NODE_ENV=production, `npm run serve` without npm, no tsx', () => {
    expect(of('ENV')).toContainEqual({ kind: 'ENV', name: 'NODE_ENV', value: 'production' });
    const users = of('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1)!.user);
    const serve = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.serve as string;
    expect(of('CMD')).toEqual([{ kind: 'CMD', argv: serve.split(' ') }]);
    expect(JSON.stringify(runtime)).not.toContain('tsx');
  });
});
