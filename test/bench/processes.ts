/**
 * The benchmark's processes: each server runs alone, started with tsx and stopped with SIGTERM,
 * and is observed from outside through /proc (CPU time, RSS), as an operator would see it. Each
 * server's stdout is a pipe the benchmark drains (as a log shipper would), and each can be asked
 * over IPC what it allocated (test/bench/alloc-probe.mjs, preloaded).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

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
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...loader, ...PROBE, script], {
    cwd: ROOT,
    // No balancer watches /ready here: the gateway may stop without the drain delay.
    env: { ...process.env, NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  // Logs go to a pipe, as in a container; read and dropped so the server never blocks on it.
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start:\n${stderr}`);
    try {
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    name,
    url,
    pid: child.pid!,
    ask: <T>(message: string) =>
      new Promise<T>((resolve) => {
        child.once('message', (answer) => resolve(answer as T));
        child.send(message);
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** User + system CPU the process has used, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
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
