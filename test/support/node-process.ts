/**
 * A Node server in its own process, as it is deployed: the compiled product (`node dist/…`), or a
 * TypeScript entry under tsx, with `NODE_ENV=production`; what it prints is kept for error messages,
 * and `waitFor` polls it over HTTP until it answers. Shared by the benchmark (test/bench/processes.ts)
 * and the rolling restart behind nginx (rolling-restart.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { openStdoutPipe } from './stdout-pipe.js';

/** A loopback port nothing listens on right now. */
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

export interface NodeServerOptions {
  /** The folder it runs in; `script` is relative to it. */
  cwd: string;
  /** A compiled `.js` entry (run with plain node) or a `.ts` one (run under tsx). */
  script: string;
  port: number;
  /** Added to this process's environment, after `NODE_ENV=production`. */
  env: Record<string, string>;
  /** Node flags before the script (`--cpu-prof`, `--import` of a probe). */
  nodeArgs?: string[];
  /** An IPC channel to the child (`child.send`). */
  ipc?: boolean;
  /**
   * Keep stdout as well as stderr in `output()`. Off, stdout is read and dropped, as a log shipper
   * would drain it: a server logging every request at `info` must never block on a full pipe.
   */
  keepStdout?: boolean;
}

export interface NodeServer {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** What it printed (stderr, and stdout with `keepStdout`). */
  output(): string;
  /** Polls `path` until it answers `status` (any status when undefined); fails if the process exits first. */
  waitFor(path: string, options: { status?: number; timeoutMs: number }): Promise<void>;
  /** SIGTERM, and resolves with the exit code once it has exited. */
  stop(): Promise<number | null>;
}

export function startNodeServer(options: NodeServerOptions): NodeServer {
  const loader = options.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  // Stdout on a pipe, as a container runtime gives it (test/support/stdout-pipe.ts).
  const stdout = openStdoutPipe();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, join(options.cwd, options.script)], {
    cwd: options.cwd,
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', stdout.writeEnd, 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  closeSync(stdout.writeEnd);
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  if (options.keepStdout) stdout.reader.on('data', (chunk) => (output += chunk));
  else stdout.reader.resume();
  const url = `http://127.0.0.1:${options.port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    port: options.port,
    url,
    output: () => output,
    waitFor: async (path, { status, timeoutMs }) => {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        if (child.exitCode !== null)
          throw new Error(`${options.script} exited during start (${child.exitCode}):\n${output}`);
        try {
          const response = await request(`${url}${path}`, { reset: true });
          await response.body.dump();
          if (status === undefined || response.statusCode === status) return;
          last = `status ${response.statusCode}`;
        } catch (error) {
          last = String(error);
        }
        if (Date.now() > deadline)
          throw new Error(
            `${options.script}: ${path} did not answer${status ? ` ${status}` : ''} (last: ${last}):\n${output}`,
          );
        await sleep(25);
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
