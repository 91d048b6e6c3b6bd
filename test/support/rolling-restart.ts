/**
 * A rolling restart under load, with real parts: one compiled Kibo emulator, compiled gateway replicas
 * (`node dist/src/main.js`) behind Debian's nginx, and switchTenant traffic at a fixed concurrency for
 * the whole run. Each replica is replaced in turn as an orchestrator does it: start the new one, wait
 * for its /ready, SIGTERM the old one (whose /ready must turn 503 and which must exit 0). Every answer
 * is checked; afterwards one replica is killed with SIGKILL to show what skipping the drain costs.
 *
 * Used by test/deploy/compiled.test.ts (gated: no failed request) and `npm run bench -- --rolling`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startNginx, type RunningNginx } from './nginx.js';
import { freePort, startNodeServer, type NodeServer } from './node-process.js';

export { freePort };

export interface RollingOptions {
  /** A folder holding the compiled product (dist/) and its node_modules. */
  appDir: string;
  nginxBinary: string;
  replicas: number;
  rotations: number;
  concurrency: number;
  drainDelayMs: number;
  graceMs: number;
  /** How often the balancer's controller polls each replica's /ready (a health-check interval). */
  probeIntervalMs: number;
  /** Traffic before the first replacement and after the last, in ms. */
  settleMs: number;
  /** Kill one replica with SIGKILL after the rotations and count what fails (reported, not gated). */
  killOne: boolean;
  progress?: (line: string) => void;
}

export interface PhaseCounts {
  requests: number;
  ok: number;
  /** Failed requests by kind: `status 502`, `error UPSTREAM_UNAVAILABLE`, `wrong answer`, `network UND_ERR_SOCKET`, … */
  failures: Record<string, number>;
  /** Answers nginx got only after a refused connect sent it to another replica. */
  retriedByBalancer: number;
  /** The first failures, one line each: when, what, through which replica, the start of the answer. */
  samples: string[];
}

export interface RollingReport {
  replicas: number;
  rotations: number;
  replacements: number;
  concurrency: number;
  drainDelayMs: number;
  graceMs: number;
  probeIntervalMs: number;
  /** nginx reloads with a new list of ready replicas. */
  balancerReloads: number;
  durationS: number;
  requestsPerSecond: number;
  rolling: PhaseCounts;
  /**
   * The kill -9 of one replica (reported, not gated): the requests answered from the kill until
   * traffic stopped, a second after the balancer had taken the dead replica out of rotation.
   */
  kill?: PhaseCounts & { windowMs: number; outOfRotationMs: number };
  /** Per replacement: how long the new replica took to be ready, the old one to exit, its exit code. */
  /**
   * Per replacement: how long the new replica took to be ready, the old one to exit (and its code),
   * whether its /ready said 503 while draining, and when the balancer stopped sending to it (after
   * SIGTERM: the controller's next poll plus nginx's reload).
   */
  replacementsDetail: Array<{
    readyMs: number;
    exitMs: number;
    exitCode: number | null;
    saw503: boolean;
    outOfRotationMs: number;
  }>;
  /** nginx's error log lines about replicas (refused connects, resets), first ones only. */
  balancerLog: string[];
}

type Replica = NodeServer;

const QUERY =
  'mutation Switch($tenantId: Int!) { switchTenant(tenantId: $tenantId) { accessToken tenant { id name } } }';
const TENANTS = DEMO.tenantIds;

/** Replicas on a machine shared with other test runs can take many seconds to start. */
const START_TIMEOUT_MS = 240_000;

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await request(`http://127.0.0.1:${port}/ready`, {
      reset: true,
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
    });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

function emptyCounts(): PhaseCounts {
  return { requests: 0, ok: 0, failures: {}, retriedByBalancer: 0, samples: [] };
}

/** Concurrent switchTenant loops through the balancer, each answer checked; counts go to `phase()`. */
/** An answer's first words on one line: nginx's error pages are HTML over several lines. */
function gist(text: string): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
}

function driveLoad(url: string, concurrency: number, phase: () => PhaseCounts) {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  let running = true;
  const sample = (line: string) => {
    const { samples } = phase();
    if (samples.length < 10) samples.push(`${new Date().toISOString()} ${line}`);
  };
  const one = async () => {
    const tenantId = TENANTS.first + Math.floor(Math.random() * (TENANTS.last - TENANTS.first));
    let failure: string | undefined;
    try {
      const response = await request(`${url}/graphql`, {
        dispatcher: agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${DEMO.appToken}`,
          'x-kibo-refresh-token': DEMO.refreshToken,
        },
        body: JSON.stringify({ query: QUERY, variables: { tenantId } }),
      });
      const text = await response.body.text();
      if (String(response.headers['x-upstream'] ?? '').includes(',')) phase().retriedByBalancer++;
      if (response.statusCode !== 200) failure = `status ${response.statusCode}`;
      else {
        const body = JSON.parse(text) as {
          errors?: Array<{ extensions?: { code?: unknown } }>;
          data?: { switchTenant?: { accessToken?: unknown; tenant?: { id?: unknown } } };
        };
        const ticket = body.data?.switchTenant;
        if (body.errors) failure = `error ${String(body.errors[0]?.extensions?.code)}`;
        else if (ticket?.tenant?.id !== tenantId || typeof ticket.accessToken !== 'string') failure = 'wrong answer';
      }
      if (failure) sample(`${failure} via ${response.headers['x-upstream']}: ${gist(text)}`);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      failure = `network ${code}`;
      sample(`${failure}: ${(error as Error).message}`);
    }
    // Counted when answered: a request in flight when one replica is killed belongs to that phase.
    const counts = phase();
    counts.requests++;
    if (failure) counts.failures[failure] = (counts.failures[failure] ?? 0) + 1;
    else counts.ok++;
  };
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await one();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await agent.close();
    },
  };
}

export async function runRollingRestart(options: RollingOptions): Promise<RollingReport> {
  const say = options.progress ?? (() => undefined);
  const cleanup: Array<() => Promise<void> | void> = [];
  try {
    const emulatorPort = await freePort();
    const emulator = startNodeServer({
      cwd: options.appDir,
      script: 'dist/src/emulator/main.js',
      port: emulatorPort,
      env: { EMULATOR_PORT: String(emulatorPort), EMULATOR_HOST: '127.0.0.1' },
      keepStdout: true,
    });
    cleanup.push(() => void emulator.child.kill('SIGKILL'));
    await emulator.waitFor('/', { timeoutMs: START_TIMEOUT_MS });

    // One slot more than there are replicas: the next replica starts in the free one.
    const slots = await Promise.all(Array.from({ length: options.replicas + 1 }, freePort));
    const live = new Set<Replica>();
    cleanup.push(() => {
      for (const replica of live) replica.child.kill('SIGKILL');
    });
    const startReplica = async (port: number) => {
      const replica = startNodeServer({
        cwd: options.appDir,
        script: 'dist/src/main.js',
        port,
        env: {
          PORT: String(port),
          HOST: '127.0.0.1',
          KIBO_BASE_URL: `http://127.0.0.1:${emulatorPort}`,
          LOG_LEVEL: process.env.REPLICA_LOG_LEVEL ?? 'warn',
          SHUTDOWN_DRAIN_DELAY_MS: String(options.drainDelayMs),
          SHUTDOWN_GRACE_MS: String(options.graceMs),
          // All the load is one demo user's: with two replicas left during a replacement, each would
          // see more of its calls in flight than the per-credential cap (8) allows a single client.
          KIBO_MAX_CONCURRENT_PER_CREDENTIAL: String(options.concurrency),
        },
        keepStdout: true,
      });
      live.add(replica);
      await replica.waitFor('/ready', { status: 200, timeoutMs: START_TIMEOUT_MS });
      return replica;
    };
    const replicas: Replica[] = [];
    for (const port of slots.slice(0, options.replicas)) replicas.push(await startReplica(port));

    const nginx: RunningNginx = await startNginx(options.nginxBinary, {
      listenPort: await freePort(),
      upstreamPorts: replicas.map((replica) => replica.port),
    });
    cleanup.push(() => nginx.stop());

    // The endpoint controller: the replicas whose /ready answers 200 are the ones nginx sends to.
    let watching = true;
    let upstreams = replicas.map((replica) => replica.port).join();
    /** When each port last left nginx's list. */
    const removedAt = new Map<number, number>();
    const controller = (async () => {
      while (watching) {
        const ports = [...live].map((replica) => replica.port);
        const answers = await Promise.all(ports.map(isReady));
        const ready = ports.filter((_, index) => answers[index]);
        if (ready.length > 0 && ready.join() !== upstreams) {
          await nginx.setUpstreams(ready);
          for (const port of upstreams.split(',').map(Number))
            if (!ready.includes(port)) removedAt.set(port, Date.now());
          upstreams = ready.join();
        }
        await sleep(options.probeIntervalMs);
      }
    })();
    cleanup.push(async () => {
      watching = false;
      await controller;
    });
    /** Resolves once the controller has taken `port` out of nginx's list after `since` (at most a minute). */
    const outOfRotation = async (port: number, since: number) => {
      const deadline = since + 60_000;
      while ((removedAt.get(port) ?? 0) < since && Date.now() < deadline) await sleep(20);
    };

    const rolling = emptyCounts();
    const killCounts = emptyCounts();
    let current = rolling;
    const load = driveLoad(nginx.url, options.concurrency, () => current);
    const loadStarted = Date.now();
    cleanup.push(() => load.stop());
    await sleep(options.settleMs);

    const details: RollingReport['replacementsDetail'] = [];
    for (let rotation = 1; rotation <= options.rotations; rotation++) {
      for (let index = 0; index < replicas.length; index++) {
        const old = replicas[index]!;
        const freeSlot = slots.find((port) => ![...live].some((replica) => replica.port === port))!;
        const t0 = Date.now();
        const next = await startReplica(freeSlot);
        const readyMs = Date.now() - t0;
        const exited = new Promise<number | null>((resolve) => old.child.once('exit', (code) => resolve(code)));
        const t1 = Date.now();
        old.child.kill('SIGTERM');
        // The old replica must say it is leaving while it still serves.
        let saw503 = false;
        while (!saw503 && old.child.exitCode === null && Date.now() - t1 < options.drainDelayMs) {
          try {
            const response = await request(`http://127.0.0.1:${old.port}/ready`, { reset: true });
            await response.body.dump();
            saw503 = response.statusCode === 503;
          } catch {
            break;
          }
        }
        const exitCode = await exited;
        const exitMs = Date.now() - t1;
        // With a short drain delay the old replica may be gone before the controller's next poll.
        await outOfRotation(old.port, t1);
        live.delete(old);
        replicas[index] = next;
        details.push({
          readyMs,
          exitMs,
          exitCode,
          saw503,
          outOfRotationMs: (removedAt.get(old.port) ?? Number.POSITIVE_INFINITY) - t1,
        });
        say(
          `${new Date().toISOString()} rotation ${rotation}, replica ${index + 1}: new ready in ${readyMs} ms, old out of rotation after ${details.at(-1)!.outOfRotationMs} ms, exited ${exitCode} after ${details.at(-1)!.exitMs} ms; ` +
            `${rolling.requests} requests, ${rolling.requests - rolling.ok} failed`,
        );
      }
    }
    await sleep(options.settleMs);
    const rollingEnd = Date.now();

    let kill: RollingReport['kill'];
    if (options.killOne) {
      // No drain at all: the process is gone with whatever it had in flight. The controller's next
      // poll finds its /ready refused and takes it out of nginx's rotation.
      current = killCounts;
      const victim = replicas[0]!;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.stop();
      await outOfRotation(victim.port, killedAt);
      const outOfRotationMs = (removedAt.get(victim.port) ?? Number.POSITIVE_INFINITY) - killedAt;
      live.delete(victim);
      await sleep(1_000);
      await load.stop();
      kill = { ...killCounts, windowMs: Date.now() - killedAt, outOfRotationMs };
      say(
        `kill -9 of one replica (reported, not gated): ${killCounts.requests - killCounts.ok} of ${killCounts.requests} requests failed; ` +
          `out of nginx's rotation ${outOfRotationMs} ms after the kill`,
      );
    } else {
      await load.stop();
    }
    cleanup.pop();
    const balancerReloads = nginx.reloads();

    const durationS = (rollingEnd - loadStarted) / 1000;
    return {
      replicas: options.replicas,
      rotations: options.rotations,
      replacements: details.length,
      concurrency: options.concurrency,
      drainDelayMs: options.drainDelayMs,
      graceMs: options.graceMs,
      probeIntervalMs: options.probeIntervalMs,
      balancerReloads,
      durationS,
      requestsPerSecond: rolling.requests / durationS,
      rolling,
      ...(kill && { kill }),
      replacementsDetail: details,
      balancerLog: nginx
        .errorLog()
        .split('\n')
        .filter((line) => line.includes('upstream'))
        .slice(0, 40)
        .map((line) => line.replace(/^\S+ \S+ /, '').slice(0, 300)),
    };
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
}
