/**
 * Where the gateway's log lines go: stdout, in batches, written on the main thread through Node's
 * own stdout stream and never waiting for the reader.
 *
 * Why not pino's destinations: the asynchronous one hands every batch to libuv's thread pool (a
 * wake-up and a context switch each, ~100 µs of main-thread time per batch in a profile); the
 * synchronous one writes with write(2) on the main thread but stops the whole process — `/health`,
 * SIGTERM handling — whenever the reader stops reading, sleeps 100 ms per full pipe once fd 1 is
 * non-blocking (as Node makes it as soon as anything touches `process.stdout`), and loses its
 * buffer on `process.exit`. Node's stdout stream on a pipe is a libuv stream: a write that fits in
 * the pipe goes out at once with one write(2); one that does not waits in libuv's queue and the
 * event loop goes on. What waits there is bounded here: past `maxUnwrittenBytes` whole batches are
 * dropped and counted, and the next line that gets through says how many.
 */
import { writeSync } from 'node:fs';

/** The part of a writable stream the writer uses: Node's `process.stdout` in production. */
export interface LineSink {
  write(chunk: string): boolean;
  /** Bytes accepted but not yet handed to the kernel. */
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Set for stdout on a pipe, file or terminal: where the exit flush writes directly. */
  readonly fd?: number;
}

export interface LogWriterOptions {
  /** A batch is written once it holds this many characters… */
  batchChars: number;
  /** …or at the latest this long after its first line, so a quiet gateway's lines still show. */
  flushIntervalMs: number;
  /**
   * What may wait behind a reader that is not reading (bytes in the stream's queue plus the batch).
   * Past it a batch is dropped: lost lines are better than a gateway that grows until it is killed.
   */
  maxUnwrittenChars: number;
}

export const DEFAULT_LOG_WRITER_OPTIONS: LogWriterOptions = {
  // Appending to a batch copies nothing (V8 joins the strings when it is written), so a batch may be
  // large: a line cost 3.1–4.3 µs of CPU with 4 KiB batches and 2.4–3.2 µs with 16 KiB (by hand,
  // 200,000 lines into a pipe). At ~250 bytes a line that is ~65 lines per write(2), and never more
  // than a second's lines at risk if the process is killed outright.
  batchChars: 16 * 1024,
  flushIntervalMs: 1000,
  maxUnwrittenChars: 4 * 1024 * 1024,
};

export class LogWriter {
  #batch = '';
  #batchLines = 0;
  #dropped = 0;
  #droppedTotal = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The reader closed its end (EPIPE): nothing written from now on arrives anywhere. */
  #readerGone = false;

  constructor(
    private readonly sink: LineSink,
    private readonly options: LogWriterOptions = DEFAULT_LOG_WRITER_OPTIONS,
  ) {
    // Whatever is still batched when the process exits — process.exit, an uncaught throw — is
    // written before it goes. A crash is when the last lines matter most.
    process.once('exit', () => this.flushSync());
    // Without a listener a closed pipe is an uncaught error: the gateway would die with its log reader.
    sink.on('error', () => {
      this.#readerGone = true;
    });
  }

  /** Lines dropped so far because the reader fell behind (for the metric). */
  get droppedLines(): number {
    return this.#droppedTotal;
  }

  /** pino's destination interface: one serialised line, newline included. */
  write(line: string): void {
    this.#batch += line;
    this.#batchLines += 1;
    if (this.#batch.length >= this.options.batchChars) this.#writeBatch();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#writeBatch(), this.options.flushIntervalMs);
      // A batch waiting to be written is no reason to keep the process alive: exit writes it.
      this.#timer.unref();
    }
  }

  /** Writes the batch now; `done` runs once the stream has handed everything to the kernel. */
  flush(done: (error?: Error) => void = () => {}): void {
    this.#writeBatch();
    if (this.sink.writableLength === 0 || this.#readerGone) done();
    else this.sink.once('drain', () => done());
  }

  #writeBatch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch === '') return;
    let batch = this.#batch;
    const lines = this.#batchLines;
    this.#batch = '';
    this.#batchLines = 0;
    if (this.#readerGone || this.sink.writableLength + batch.length > this.options.maxUnwrittenChars) {
      this.#dropped += lines;
      this.#droppedTotal += lines;
      return;
    }
    if (this.#dropped > 0) {
      batch = `${droppedLine(this.#dropped)}\n${batch}`;
      this.#dropped = 0;
    }
    this.sink.write(batch);
  }

  /** At exit: the batch straight to the fd, unless earlier output still waits (it would jump the queue). */
  flushSync(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const { fd } = this.sink;
    if (this.#batch === '' || fd === undefined || this.#readerGone || this.sink.writableLength > 0) return;
    const bytes = Buffer.from(this.#batch);
    try {
      // A non-blocking pipe may take part of it; go on while it takes anything.
      for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
    } catch {
      // A full pipe (EAGAIN) or a closed one: the reader is gone or stalled, and nothing can wait now.
    }
    this.#batch = '';
    this.#batchLines = 0;
  }
}

/** A line of the gateway's own shape, so log pipelines parse it like any other. */
function droppedLine(count: number): string {
  return JSON.stringify({
    level: 40,
    time: Date.now(),
    service: 'kibo-auth-gateway',
    droppedLines: count,
    msg: 'log lines dropped: stdout was not being read fast enough',
  });
}
