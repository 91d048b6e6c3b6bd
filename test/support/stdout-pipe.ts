/**
 * A pipe for a child's stdout, as container runtimes give one. Node's own `stdio: 'pipe'` is a
 * socketpair, and on a socket the gateway logs through another writer (src/telemetry/logger.ts): a
 * server measured or tested as deployed gets a FIFO.
 */
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StdoutPipe {
  /** For the child's `stdio[1]` (and `[2]` for `2>&1`); close it in the parent once spawned. */
  writeEnd: number;
  /** The read end: nothing is read until someone reads it. */
  reader: Socket;
}

export function openStdoutPipe(): StdoutPipe {
  const folder = mkdtempSync(join(tmpdir(), 'stdout-pipe-'));
  const fifo = join(folder, 'stdout');
  try {
    execFileSync('mkfifo', [fifo]);
    // The read end first, non-blocking: opening the write end then does not wait for a reader.
    const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeEnd = openSync(fifo, constants.O_WRONLY);
    return { writeEnd, reader: new Socket({ fd: readEnd, readable: true, writable: false }) };
  } finally {
    // The open ends hold the pipe; its name is needed no longer.
    rmSync(folder, { recursive: true, force: true });
  }
}
