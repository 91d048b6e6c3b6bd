/**
 * Log lines on stdout when the process or its reader misbehaves: a crash right after a line, a
 * reader that stops reading (with stdout and stderr on one pipe, as `2>&1` and many runtimes do), a
 * reader that goes away. Real processes and real pipes: the writer's behaviour is the kernel's and
 * libuv's, which nothing in-process can stand in for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, spawnMain } from '../support/main-process.js';
import { DEMO_HEADERS } from '../support/stack.js';
import { procStatFields } from '../support/proc-stat.js';
import { openStdoutPipe } from '../support/stdout-pipe.js';
import { waitFor } from '../support/wait-for.js';

const FLOOD_LINES = 20_000;
const FLOOD_BOUND_CHARS = 256 * 1024;
/** ~0.5 MB: several times what a pipe holds. */
const BEHIND_LINES = 3000;

const SCRIPT = '/usr/bin/script';

const children: ChildProcess[] = [];
/** Started in a process group of their own (`script` and the gateway under it): killed as a group. */
const groups: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const group of groups.splice(0)) {
    try {
      process.kill(-group.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * What a child's stdout is: `pipe`, a FIFO (what container runtimes give, and where the gateway writes
 * batches itself, log-writer.ts), or `socket`, Node's own choice for a child's stdio (a socketpair, as
 * journald gives; the gateway hands writes to the thread pool there).
 */
type StdoutKind = 'pipe' | 'socket';

interface Spawned {
  child: ChildProcess;
  /** The read end of its stdout: nothing is read until the test reads. */
  stdout: Readable;
}

/** `command` with its stdout (and with `stderrToo`, its stderr: `2>&1`) on a `kind`. */
function spawnWithStdout(
  kind: StdoutKind,
  command: readonly string[],
  options: { env?: Record<string, string>; stderrToo?: boolean } = {},
): Spawned {
  const [file, ...args] = command as [string, ...string[]];
  const env = { ...process.env, ...options.env };
  if (kind === 'socket') {
    const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return { child, stdout: child.stdout! };
  }
  const pipe = openStdoutPipe();
  const child = spawn(file, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', pipe.writeEnd, options.stderrToo ? pipe.writeEnd : 'pipe'],
  });
  closeSync(pipe.writeEnd);
  children.push(child);
  return { child, stdout: pipe.reader };
}

function runFixture(kind: StdoutKind, ...args: string[]): Spawned {
  return spawnWithStdout(kind, [
    process.execPath,
    '--import',
    'tsx',
    'test/telemetry/fixtures/stdout-logger.ts',
    ...args,
  ]);
}

/** The gateway (`npm start`) on a FIFO, and its address once it has said it. */
async function startGatewayOnPipe(env: Record<string, string>, stderrToo = false): Promise<Spawned & { url: string }> {
  const spawned = spawnWithStdout('pipe', [process.execPath, '--import', 'tsx', 'src/main.ts'], {
    env: { PORT: '0', LOG_LEVEL: 'info', ...env },
    stderrToo,
  });
  let output = '';
  const read = (chunk: Buffer) => (output += chunk);
  spawned.stdout.on('data', read);
  await waitFor(() => ANNOUNCED.test(output), 20_000);
  spawned.stdout.off('data', read);
  spawned.stdout.pause();
  return { ...spawned, url: `http://127.0.0.1:${ANNOUNCED.exec(output)![1]}` };
}

const ANNOUNCED = /GraphiQL is at http:\/\/localhost:(\d+)/;

function collect(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  return () => text;
}

/**
 * Reads a child's stdout slowly — `bytes` every `everyMs`, or all there is without `bytes` — until the
 * child exits, then the rest: its exit code and everything it wrote.
 */
async function readSlowly(
  child: ChildProcess,
  stdout: Readable,
  everyMs: number,
  bytes?: number,
): Promise<{ code: number | null; output: string }> {
  let output = '';
  // Listened for from the start: the slow reads may reach the end before the child's exit is heard.
  const ended = once(stdout, 'end');
  const slowly = setInterval(() => {
    if (bytes) output += stdout.read(bytes) ?? stdout.read() ?? '';
    else for (let chunk = stdout.read(); chunk !== null; chunk = stdout.read()) output += chunk;
  }, everyMs);
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    stdout.on('data', (chunk) => (output += chunk)).resume();
    await ended;
    return { code, output };
  } finally {
    clearInterval(slowly);
  }
}

interface LogRecord {
  msg?: string;
  line?: number;
  droppedLines?: number;
}

/** The lines of an output, each with its record; undefined where a line is not JSON (cut, or glued to another). */
function parseLines(output: string): { lines: string[]; records: (LogRecord | undefined)[] } {
  const lines = output.split('\n').filter((line) => line !== '');
  const records = lines.map((line) => {
    try {
      return JSON.parse(line) as LogRecord;
    } catch {
      return undefined;
    }
  });
  return { lines, records };
}

/**
 * A `behind` fixture's output: the numbers of its lines that arrived, the count of those said dropped,
 * the last two messages, and how many lines are not JSON.
 */
function readBehind(output: string): { numbers: number[]; noticed: number; lastMessages: string[]; torn: number } {
  const { records } = parseLines(output);
  return {
    numbers: records.filter((record) => record?.msg === 'behind').map((record) => record!.line!),
    noticed: records.reduce((sum, record) => sum + (record?.droppedLines ?? 0), 0),
    lastMessages: records.slice(-2).map((record) => record?.msg ?? '(not JSON)'),
    torn: records.filter((record) => record === undefined).length,
  };
}

/** Every process below `pid`, read from /proc. */
function descendants(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = statFields(Number(entry))?.[1];
    if (parent === undefined) continue;
    childrenOf.set(Number(parent), [...(childrenOf.get(Number(parent)) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    const next = childrenOf.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/** The fields of /proc/<pid>/stat after the command name, or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    return procStatFields(pid);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Gone, or a zombie its parent has not reaped yet. */
function hasExited(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === undefined || state === 'Z';
}

/** `requests` typename queries, `concurrency` at a time; resolves with the statuses. */
async function sendQueries(url: string, requests: number, concurrency = 20): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next += 1;
        const response = await request(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
          body: '{"query":"{ __typename }"}',
        });
        await response.body.dump();
        statuses.push(response.statusCode);
      }
    }),
  );
  return statuses;
}

describe('log lines on stdout', () => {
  it.each(['exit', 'throw'])('are written when the process ends at once (%s) right after logging', async (mode) => {
    const { child, stdout } = runFixture('socket', mode);
    const output = collect(stdout);
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(output()).toContain('"msg":"last words"');
  });

  it.each(['pipe', 'socket'] as const)(
    'are written, whole and in order, when the process exits while the reader of its %s is behind',
    async (kind) => {
      const { child, stdout } = runFixture(kind, 'exit-behind', String(BEHIND_LINES));
      // Not reading yet: the pipe fills, and the process exits with most of its lines still unwritten.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const output = collect(stdout);
      const [code] = await once(child, 'exit');
      expect(code).toBe(3);
      const { numbers, noticed, lastMessages, torn } = readBehind(output());
      expect(torn).toBe(0);
      // Whole lines, in order; on a pipe the backlog beyond what the exit may wait for is dropped, and
      // said so (the newest lines go first), so every line arrived or was counted.
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(numbers.length + noticed).toBe(BEHIND_LINES);
      // On a pipe even a line logged by a later exit handler goes out; the thread pool's writer has
      // flushed for good by then.
      expect(lastMessages).toEqual(kind === 'pipe' ? ['last words', 'said on the way out'] : ['behind', 'last words']);
    },
  );

  it('at exit behind a slow reader, go newest first: the last lines arrive, the backlog before them is counted', async () => {
    const { child, stdout } = runFixture('pipe', 'exit-behind', String(FLOOD_LINES));
    // A reader taking ~650 KB/s: the ~3 MB waiting cannot all go in the second the process may linger.
    const { code, output } = await readSlowly(child, stdout, 25, 16_384);
    expect(code).toBe(3);
    const { numbers, noticed, lastMessages, torn } = readBehind(output);
    expect(torn).toBe(0);
    expect(noticed).toBeGreaterThan(0);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(numbers.length + noticed).toBe(FLOOD_LINES);
    expect(lastMessages).toEqual(['last words', 'said on the way out']);
  });

  it('hold exit up for one wait in all, however many exit handlers log behind a reader that reads nothing', async () => {
    const { child } = runFixture('pipe', 'exit-stalled', String(BEHIND_LINES));
    const report = collect(child.stderr!);
    const [code] = await once(child, 'exit');
    expect(code).toBe(3);
    const { exitMs } = JSON.parse(report().trim().split('\n').at(-1)!) as { exitMs: number };
    // One wait of 1 s (DEFAULT_LOG_WRITER_OPTIONS.exitWaitMs), not one for each of the five lines.
    expect(exitMs).toBeLessThan(2500);
  });

  it.each([
    { lines: 'log lines', cut: 'inside a line', lengths: [] },
    // On Linux a write fills the pipe's last page, then whole pages: with these lengths the 64 KiB end
    // one byte before a line's newline, which the newline written ahead of the next line then ends.
    { lines: 'lines of 200, 184 and 151 bytes', cut: 'just before a newline', lengths: ['200', '184', '151'] },
  ])(
    'at exit, with $lines left half-written ($cut) by a reader that stopped, end that line before anything after it and count the lines lost exactly',
    async ({ lengths }) => {
      const { child, stdout } = runFixture('pipe', 'exit-cut', String(BEHIND_LINES), ...lengths);
      const report = collect(child.stderr!);
      // Nothing is read until the writer has given up: the pipe holds the start of a line, not its end.
      await waitFor(() => report().includes('gave up'), 20_000);
      const { code, output } = await readSlowly(child, stdout, 5);
      expect(code).toBe(3);
      const { numbers, noticed, lastMessages, torn } = readBehind(output);
      // At most the cut line fails to parse (none when it lacked only its newline), and nothing is glued onto it.
      expect(torn).toBeLessThanOrEqual(1);
      expect(parseLines(output).lines.filter((line) => line.split('"msg"').length > 2)).toEqual([]);
      // Every line arrived whole or is counted in the notice; the cut one is counted, the whole ones not.
      expect(numbers.length + noticed).toBe(BEHIND_LINES);
      expect(lastMessages.at(-1)).toBe('said after giving up');
    },
  );

  it.each([
    // ~800 KB/s against a process writing as fast as it can: what waits is written while the pipe pushes back.
    { reader: 'far behind throughout', pauseMs: 1, readEveryMs: 5, readBytes: 4096 },
    // Everything at once every 150 ms against ~400 KB/s: the queue empties, and the next batch meets a
    // pipe that is filling again.
    { reader: 'catching up in bursts', pauseMs: 20, readEveryMs: 150, readBytes: undefined },
  ])(
    'share a pipe with stderr (2>&1) and a reader $reader without a stderr line landing inside a log line',
    async ({ pauseMs, readEveryMs, readBytes }) => {
      const { child, stdout } = spawnWithStdout(
        'pipe',
        [
          process.execPath,
          '--import',
          'tsx',
          'test/telemetry/fixtures/stdout-logger.ts',
          'interleaved',
          String(BEHIND_LINES),
          String(pauseMs),
        ],
        { stderrToo: true },
      );
      const { code, output } = await readSlowly(child, stdout, readEveryMs, readBytes);
      expect(code).toBe(0);
      const { lines, records } = parseLines(output);
      const torn = lines.filter(
        (line, index) => records[index]?.msg === undefined && !/^plain stderr line \d+$/.test(line),
      );
      expect(lines.filter((line) => line.startsWith('plain stderr line')).length).toBeGreaterThan(BEHIND_LINES / 20);
      // The line a write cut when the pipe first pushed back may take a stderr line (its two halves then
      // parse as nothing); no other line is cut.
      expect(torn.length, torn.slice(0, 3).join('\n')).toBeLessThanOrEqual(2);
    },
  );

  it('written in whole-line pieces, still go out when the last has no newline (never an empty piece)', async () => {
    const { child, stdout } = runFixture('pipe', 'unended', String(BEHIND_LINES));
    // Not reading yet: the pipe fills, and the writer switches to pieces.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { code, output } = await readSlowly(child, stdout, 5);
    expect(code).toBe(0);
    expect(output.endsWith('\n{"msg":"no newline at the end"}')).toBe(true);
    expect(output.split('\n').filter((line) => line.includes('"behind"'))).toHaveLength(BEHIND_LINES);
  });

  it('end at once when the reader of their pipe left before the first line', async () => {
    // A named pipe nobody reads cannot be opened anew (ENXIO): the writer falls back to fd 1 itself.
    const pipe = openStdoutPipe();
    pipe.reader.destroy();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/telemetry/fixtures/stdout-logger.ts', 'exit-behind', '100'],
      { cwd: ROOT, stdio: ['ignore', pipe.writeEnd, 'pipe'] },
    );
    closeSync(pipe.writeEnd);
    children.push(child);
    await waitFor(() => child.exitCode !== null, 15_000);
    expect(child.exitCode).toBe(3);
  });

  it('survive the gateway failing to start after its first line', async () => {
    const blocker = createServer().listen(0);
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as { port: number };
      const child = spawnMain({ PORT: String(port) });
      children.push(child);
      const output = collect(child.stdout!);
      const [code] = await once(child, 'exit');
      expect(code).not.toBe(0);
      // Logged before the listen failed: the line a newcomer needs to see what was running.
      expect(output()).toContain('started the embedded Kibo emulator');
    } finally {
      blocker.close();
    }
  });

  it('wait behind a reader of their pipe that stopped reading only up to a bound, the rest counted and reported', async () => {
    const { child, stdout } = runFixture('pipe', 'flood', String(FLOOD_LINES), String(FLOOD_BOUND_CHARS));
    const report = collect(child.stderr!);
    await waitFor(() => report().includes('\n'), 20_000);
    const { mostWaiting, droppedLines } = JSON.parse(report()) as { mostWaiting: number; droppedLines: number };
    // The flood is ~3 MB; what waited in memory stayed within the bound.
    expect(mostWaiting).toBeLessThanOrEqual(FLOOD_BOUND_CHARS);
    expect(mostWaiting).toBeGreaterThan(FLOOD_BOUND_CHARS / 2);
    expect(droppedLines).toBeGreaterThan(0);

    // Now read: every line is either delivered or counted as dropped, and the count is said in a line.
    const output = collect(stdout);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const lines = output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; droppedLines?: number });
    const delivered = lines.filter((line) => line.msg === 'flood').length;
    expect(delivered + droppedLines).toBe(FLOOD_LINES);
    expect(lines).toContainEqual(expect.objectContaining({ droppedLines, level: 40 }));
    expect(lines.at(-1)?.msg).toBe('after the flood');
  });

  it('never hold the gateway up: it serves, and exits on SIGTERM, while nothing reads its stdout and stderr', async () => {
    // One pipe for both, as `2>&1` gives. The reader stops after the start-up lines: the pipe fills.
    // No balancer to wait for: SIGTERM goes straight to the drain's grace and the log flush.
    const { child, url } = await startGatewayOnPipe({ SHUTDOWN_DRAIN_DELAY_MS: '0' }, true);
    const statuses = await sendQueries(url, 1200);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const health = await request(`${url}/health`, { headersTimeout: 2000 });
    expect(health.statusCode).toBe(200);
    await health.body.dump();

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('on a terminal nobody reads, never hold the gateway up either: it serves, and exits on SIGTERM', async (context) => {
    if (!existsSync(SCRIPT)) {
      if (process.env.CI) throw new Error(`${SCRIPT} (util-linux) is missing`);
      return context.skip(`${SCRIPT} (util-linux) is not installed: no pseudo-terminal to run the gateway on`);
    }
    // `docker run -t`, `tty: true`: stdout is a terminal, in production. Node's writes to a terminal
    // block, so a terminal that stops being read must not be written from the main thread.
    const child = spawn(SCRIPT, ['-q', '-e', '-c', `"${process.execPath}" --import tsx src/main.ts`, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY_MS: '0' },
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
    groups.push(child);
    let output = '';
    const read = (chunk: Buffer) => (output += chunk);
    child.stdout!.on('data', read);
    await waitFor(() => ANNOUNCED.test(output), 20_000);
    const url = `http://127.0.0.1:${ANNOUNCED.exec(output)![1]}`;

    // Stop reading: `script` blocks on its stdout, stops reading the terminal, and the terminal fills.
    child.stdout!.off('data', read);
    child.stdout!.pause();
    const statuses = await sendQueries(url, 1200);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const health = await request(`${url}/health`, { headersTimeout: 2000 });
    expect(health.statusCode).toBe(200);
    await health.body.dump();

    // And SIGTERM still ends it (`script` itself is stuck writing to this test, so watch the gateway).
    const gateway = descendants(child.pid!).find((pid) => commandOf(pid).includes('src/main.ts'));
    expect(gateway).toBeDefined();
    process.kill(gateway!, 'SIGTERM');
    await waitFor(() => hasExited(gateway!), 15_000);
  });

  it('going nowhere (the reader closed the pipe) does not take the gateway down, and are counted', async () => {
    const { child, stdout, url } = await startGatewayOnPipe({});
    stdout.destroy();
    // Enough lines for several batches: the first write after the close meets EPIPE.
    expect((await sendQueries(url, 200)).every((status) => status === 200)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(child.exitCode).toBeNull();
    const metrics = await request(`${url}/metrics`);
    const text = await metrics.body.text();
    const dropped = Number(/^gateway_log_lines_dropped_total (\d+)$/m.exec(text)?.[1]);
    expect(dropped).toBeGreaterThan(0);
  });
});
