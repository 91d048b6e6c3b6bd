/**
 * The benchmark's processes: each server runs alone (test/support/node-process.ts), stopped with SIGTERM,
 * and is observed from outside through /proc (CPU time, RSS), as an operator would see it. Each
 * server's stdout is a pipe the benchmark drains (as a log shipper would), and each can be asked
 * over IPC what it allocated (test/bench/alloc-probe.mjs, preloaded).
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, startNodeServer } from '../support/node-process.js';
import { procStatFields } from '../support/proc-stat.js';

export { freePort };

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Sends `message` to the preloaded probe and resolves with its answer. */
  ask<T = Record<string, unknown>>(message: string): Promise<T>;
  stop(): Promise<void>;
}

const PROBE = ['--import', './test/bench/alloc-probe.mjs'];

/** Compiles the product as it is deployed (`npm run build`), so the servers measured are plain Node. */
export function buildProduct(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** Starts `script` (compiled .js with node, .ts under tsx) and resolves once it answers HTTP. */
export async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  port: number,
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const server = startNodeServer({
    cwd: ROOT,
    script,
    port,
    // No balancer watches /ready here: the gateway may stop without the drain delay.
    env: { SHUTDOWN_DRAIN_DELAY_MS: '0', ...env },
    nodeArgs: [...nodeArgs, ...PROBE],
    ipc: true,
  });
  await server.waitFor('/health', { timeoutMs: 20_000 }).catch((error: Error) => {
    server.child.kill('SIGKILL');
    throw new Error(`${name}: ${error.message}`);
  });
  const { child } = server;
  running.add(server.pid);
  // One question at a time: the probe answers in order, and each answer goes to the one who asked.
  let asked: Promise<unknown> = Promise.resolve();
  return {
    name,
    url: server.url,
    pid: server.pid,
    ask: <T>(message: string) => {
      const answer = asked.then(
        () =>
          new Promise<T>((resolve) => {
            child.once('message', (reply) => resolve(reply as T));
            child.send(message);
          }),
      );
      asked = answer.catch(() => undefined);
      return answer;
    },
    stop: async () => {
      running.delete(server.pid);
      await server.stop();
    },
  };
}

/** Every server started and not yet stopped: what `untilQuiet` watches. */
const running = new Set<number>();

/**
 * Resolves once no running server has used a clock tick of CPU (10 ms at the usual CLK_TCK of 100)
 * in the last 100 ms, or after `maxMs` with a warning. A case whose requests take hundreds of
 * milliseconds (gateway-wide) leaves work behind when its load stops — answers still being built,
 * the collections they leave — and on two cores that work would run inside the next slice,
 * whichever server that slice measures.
 */
export async function untilQuiet(maxMs = 5_000): Promise<void> {
  const started = Date.now();
  const busy = () => othersCpuMs(NONE);
  let before = busy();
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = busy();
    if (now - before <= 2) return;
    before = now;
  }
  process.stderr.write(`warning: the servers were still busy after ${maxMs} ms; measuring anyway\n`);
}

const NONE: ReadonlySet<number> = new Set();

/** CPU used so far by every running server but `except`: what else ran on the machine during a slice. */
export function othersCpuMs(except: ReadonlySet<number>): number {
  let sum = 0;
  for (const pid of running) if (!except.has(pid)) sum += cpuMsIfAlive(pid);
  return sum;
}

function cpuMsIfAlive(pid: number): number {
  try {
    return cpuMs(pid);
  } catch {
    return 0;
  }
}

/** User + system CPU the process has used, in milliseconds. */
export function cpuMs(pid: number): number {
  const fields = procStatFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resident set size now (VmRSS) and at its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/**
 * Runs test/bench/load.ts in its own process and returns what it measured; `onProgress` gets the
 * requests completed so far at every tick (with `tickMs` in the options).
 */
export function runLoad(
  options: Record<string, unknown>,
  script = 'test/bench/load.ts',
  onProgress?: (requests: number) => void,
): Promise<LoadResult & Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith('{"progress"')) onProgress?.(JSON.parse(line).progress);
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => {
      const line = stdout.trim().split('\n').at(-1);
      if (line?.startsWith('{"progress"'))
        return reject(new Error(`load generator ended without a result:\n${stderr}`));
      if (code !== 0 || !line) reject(new Error(`load generator failed (${code}):\n${stderr}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** A load generator kept up for many short loads, one at a time (test/bench/load.ts, forked). */
export interface LoadWorker {
  run(options: Record<string, unknown>, onProgress?: (requests: number) => void): Promise<LoadResult>;
  stop(): void;
}

/**
 * Forks test/bench/load.ts once: the cases' slices then follow each other within milliseconds,
 * without a process (and tsx) starting between a case's slice and the floor's slice beside it.
 */
export function startLoadWorker(): LoadWorker {
  const child = fork('test/bench/load.ts', [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  let exited: Error | undefined;
  child.once('exit', (code) => (exited ??= new Error(`load generator exited (${code})`)));
  // A send on a channel that has just closed: end the child, whose exit then fails the run waiting.
  child.on('error', (error) => {
    exited ??= error;
    child.kill();
  });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run(options, onProgress) {
      const result = queue.then(
        () =>
          new Promise<LoadResult>((resolve, reject) => {
            if (exited) return reject(exited);
            const onMessage = (message: Record<string, unknown>) => {
              if (typeof message.progress === 'number') return onProgress?.(message.progress);
              child.off('message', onMessage);
              child.off('exit', onExit);
              if (typeof message.failed === 'string') reject(new Error(`load generator: ${message.failed}`));
              else resolve(message as unknown as LoadResult);
            };
            const onExit = () => {
              child.off('message', onMessage);
              reject(exited);
            };
            child.on('message', onMessage);
            child.once('exit', onExit);
            child.send(options);
          }),
      );
      queue = result.catch(() => undefined);
      return result;
    },
    stop: () => void child.kill(),
  };
}
