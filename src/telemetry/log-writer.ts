/**
 * Where the gateway's log lines go when stdout is a pipe (a container runtime, a log shipper,
 * `| tee`) or, in production, a terminal (`docker run -t`): batches written with write(2) on the main
 * thread, never waiting for the reader.
 *
 * Why not pino's destinations: the asynchronous one hands every batch to libuv's thread pool (a
 * wake-up and a context switch each, ~100 µs of main-thread time per batch in a profile); the
 * synchronous one stops the whole process — `/health`, SIGTERM handling — whenever the reader stops
 * reading, and loses its buffer on `process.exit`. Here the writer has the pipe open on a descriptor
 * of its own, non-blocking (`openStdoutOfOwn`), so a write takes what the pipe has room for and
 * returns at once; what it could not take waits in this writer's own queue and is retried on a timer,
 * in pieces of whole lines the pipe takes whole or not at all, so stderr on the same pipe (`2>&1`)
 * lands between log lines, not inside one — but for the line the first write into a full pipe cuts
 * (one per time the pipe fills), a line over 4 KiB (no pipe write of more is whole or nothing), and
 * on a terminal, which gives no such guarantee at all.
 * What waits is bounded: past `maxUnwrittenChars` whole batches are dropped and counted, and the next
 * batch that gets through starts with a line saying how many. At exit the writer keeps trying for up
 * to `exitWaitMs`, the newest lines first in line after the one being written, so a crash behind a
 * slow reader still leaves its last lines, whole.
 */
import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';

export interface LogWriterOptions {
  /** A batch is written once it holds this many characters… */
  batchChars: number;
  /** …or at the latest this long after its first line, so a quiet gateway's lines still show. */
  flushIntervalMs: number;
  /**
   * What may wait behind a reader that is not reading, in characters. Past it a batch is dropped:
   * lost lines are better than a gateway that grows until it is killed.
   */
  maxUnwrittenChars: number;
  /** How soon a full pipe is tried again; each try that finds it still full waits twice as long… */
  retryIntervalMs: number;
  /** …up to this: a reader stalled for long costs a write(2) this often, not 50 a second. */
  maxRetryIntervalMs: number;
  /** How long the process may linger at exit for a reader that is slow, not gone. */
  exitWaitMs: number;
  /**
   * At exit, what waits beyond this (oldest first, after the batch being written) is dropped: a slow
   * reader gets the lines that tell why the process ended, not the backlog before them.
   */
  exitKeepChars: number;
}

export const DEFAULT_LOG_WRITER_OPTIONS: LogWriterOptions = {
  // Appending to a batch copies nothing (V8 joins the strings when it is written), so a batch may be
  // large: a line cost 3.1–4.3 µs of CPU with 4 KiB batches and 2.4–3.2 µs with 16 KiB (by hand,
  // 200,000 lines into a pipe). At ~250 bytes a line that is ~65 lines per write(2), and never more
  // than a second's lines at risk if the process is killed outright.
  batchChars: 16 * 1024,
  flushIntervalMs: 1000,
  maxUnwrittenChars: 4 * 1024 * 1024,
  retryIntervalMs: 20,
  maxRetryIntervalMs: 320,
  exitWaitMs: 1000,
  // What a pipe holds.
  exitKeepChars: 64 * 1024,
};

/**
 * A descriptor of its own for stdout when it is a pipe or a terminal, non-blocking; undefined for
 * anything else. Not fd 1 itself: non-blocking is a flag of the open pipe or terminal, shared with
 * every process that inherited it, and any of them may clear it again (Node itself restores stdout's
 * flags when it exits; it keeps a terminal blocking throughout), after which a full pipe or a paused
 * terminal would stop this process's main thread. Opening it anew gives this process its own flags,
 * and leaves fd 1's as they were. Where a pipe cannot be opened anew, fd 1 itself (below).
 */
export function openStdoutOfOwn(): number | undefined {
  let isPipe: boolean;
  try {
    isPipe = fstatSync(1).isFIFO();
    if (!isPipe && !isatty(1)) return undefined;
  } catch {
    return undefined;
  }
  try {
    return openSync('/proc/self/fd/1', constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    // No /proc, a pipe whose reader is gone (ENXIO), or one owned by another user (EACCES, as under
    // `su-exec` or a root supervisor). A pipe is then written on fd 1 itself, made non-blocking by
    // Node's stdout stream: open to a sibling clearing the flag, but never the thread pool's writer,
    // whose exit flush waits forever on a pipe nobody reads. A terminal gets the thread pool's writer.
    if (!isPipe) return undefined;
    void process.stdout;
    return 1;
  }
}

/** A batch, or a notice of dropped lines, the pipe has not (wholly) taken yet. */
interface Unwritten {
  /** What is left of it: a string until a write took part of it, then the bytes after that part. */
  data: string | Buffer;
  lines: number;
  /** A notice: the dropped lines it reports (owed again if it never arrives whole). */
  reported: number;
  /** Its size as counted against the bound (characters of the whole batch). */
  chars: number;
}

const NOTHING_LEFT = Buffer.alloc(0);
const NEWLINE = 0x0a;
/** What one write(2) to a pipe takes whole or not at all (POSIX PIPE_BUF; 4096 on Linux). */
const WHOLE_OR_NOTHING_BYTES = 4096;
/**
 * For this long after the pipe last pushed back, new batches too go in whole-line pieces: a reader
 * that keeps falling behind empties the queue now and then, and a large write into the nearly full
 * pipe after that would cut a line again.
 */
const WHOLE_LINES_AFTER_PUSH_BACK_MS = 1000;

export class LogWriter {
  #batch = '';
  #batchLines = 0;
  #batchTimer: NodeJS.Timeout | undefined;
  readonly #unwritten: Unwritten[] = [];
  #unwrittenChars = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs: number;
  /** After the writer's exit handler: lines logged now (by later exit handlers) are written at once. */
  #exiting = false;
  /** When waiting at exit ends, however many times exit handlers log: set on the first. */
  #exitGivesUpAt = 0;
  /** Lines dropped since the last notice, and in all. */
  #droppedUnreported = 0;
  #droppedTotal = 0;
  /** The reader closed its end (EPIPE) or the fd failed: nothing written from now on arrives. */
  #readerGone = false;
  /** The last write stopped inside a line: the pipe holds its start, and its rest comes next. */
  #midLine = false;
  /**
   * That rest was dropped (exit gave up on the reader): the next write starts with a newline, so what
   * follows is a line of its own, not glued onto the half line.
   */
  #cutLineOpen = false;
  /** When a write last found the pipe full (or took only part of what it was given). */
  #pushedBackAt = Number.NEGATIVE_INFINITY;
  readonly #onCaughtUp: Array<() => void> = [];

  constructor(
    private readonly fd: number,
    private readonly options: LogWriterOptions = DEFAULT_LOG_WRITER_OPTIONS,
  ) {
    this.#retryDelayMs = options.retryIntervalMs;
    // A crash is when the last lines matter most: process.exit, an uncaught throw.
    process.once('exit', () => this.#writeAllBeforeExit());
  }

  /** Lines dropped so far because the reader fell behind or went away (for the metric). */
  get droppedLines(): number {
    return this.#droppedTotal;
  }

  /** Characters waiting for the reader (batches it has not taken; the batch being filled not included). */
  get unwrittenChars(): number {
    return this.#unwrittenChars;
  }

  /** pino's destination interface: one serialised line, newline included. */
  write(line: string): void {
    this.#batch += line;
    this.#batchLines += 1;
    if (this.#exiting) return this.#writeAllBeforeExit();
    if (this.#batch.length >= this.options.batchChars) this.#endBatch();
    else if (this.#batchTimer === undefined) {
      this.#batchTimer = setTimeout(() => this.#endBatch(), this.options.flushIntervalMs);
      // A batch waiting is no reason to keep the process alive: exit writes it.
      this.#batchTimer.unref();
    }
  }

  /** Writes the batch now; `done` runs once the reader has taken everything (or is gone). */
  flush(done: (error?: Error) => void = () => {}): void {
    this.#endBatch();
    if (this.#unwritten.length === 0) done();
    else this.#onCaughtUp.push(() => done());
  }

  /**
   * Hands the batch on: written now if nothing waits before it and the pipe has room, else queued.
   * `sayDropped`: a notice of dropped lines goes out even without a batch to ride on.
   */
  #endBatch(sayDropped = false): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    if (this.#batch === '' && !(sayDropped && this.#droppedUnreported > 0)) return;
    const batch = this.#batch;
    const lines = this.#batchLines;
    this.#batch = '';
    this.#batchLines = 0;
    if (this.#readerGone || this.#unwrittenChars + batch.length > this.options.maxUnwrittenChars)
      return this.#drop(lines);
    // The notice goes ahead of the batch, as an entry of its own, so losing it can be told apart.
    if (this.#droppedUnreported > 0) {
      const reported = this.#droppedUnreported;
      this.#droppedUnreported = 0;
      this.#send(`${droppedNotice(reported)}\n`, 0, reported);
    }
    if (batch !== '') this.#send(batch, lines);
  }

  /** Writes lines now if nothing waits before them and the pipe has room; queues what is left of them. */
  #send(data: string, lines: number, reported = 0): void {
    const entry: Unwritten = { data, lines, reported, chars: data.length };
    if (this.#unwritten.length === 0) {
      const rest =
        Date.now() - this.#pushedBackAt < WHOLE_LINES_AFTER_PUSH_BACK_MS
          ? this.#writeInWholeLines(entry.data)
          : this.#writeSome(entry.data);
      if (rest === null) return this.#dropUnwritten(entry);
      if (rest.length === 0) return;
      entry.data = rest;
    }
    this.#unwritten.push(entry);
    this.#unwrittenChars += entry.chars;
    this.#scheduleRetry();
  }

  /** Writes waiting batches, oldest first, until the pipe is full again; true once none waits. */
  #writeWaiting(): boolean {
    while (this.#unwritten.length > 0) {
      const oldest = this.#unwritten[0]!;
      const rest = this.#readerGone ? null : this.#writeInWholeLines(oldest.data);
      if (rest !== null && rest.length > 0) {
        oldest.data = rest;
        return false;
      }
      this.#retryDelayMs = this.options.retryIntervalMs;
      this.#unwritten.shift();
      this.#unwrittenChars -= oldest.chars;
      if (rest === null) this.#dropUnwritten(oldest);
    }
    for (const caughtUp of this.#onCaughtUp.splice(0)) caughtUp();
    return true;
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#writeWaiting()) return;
      this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, this.options.maxRetryIntervalMs);
      this.#scheduleRetry();
    }, this.#retryDelayMs);
    this.#retryTimer.unref();
  }

  /**
   * One write(2) of what the pipe takes now. Returns what is left (empty when all went; the bytes
   * after a partial write, so a line cut there is finished later, never restarted), or null when the
   * reader is gone.
   */
  #writeSome(data: string | Buffer): string | Buffer | null {
    try {
      if (this.#cutLineOpen) {
        writeSync(this.fd, '\n');
        this.#cutLineOpen = false;
      }
      const written = typeof data === 'string' ? writeSync(this.fd, data) : writeSync(this.fd, data);
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (written >= size) {
        this.#midLine = false;
        return NOTHING_LEFT;
      }
      this.#pushedBackAt = Date.now();
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      if (written > 0) this.#midLine = bytes[written - 1] !== NEWLINE;
      return bytes.subarray(written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        this.#pushedBackAt = Date.now();
        return data;
      }
      this.#readerGone = true;
      return null;
    }
  }

  /**
   * What waits, written while the pipe pushes back: in pieces of whole lines the pipe takes whole or
   * not at all, so another writer on the same pipe (stderr, under `2>&1`) lands between two lines, not
   * inside one as it would in a line a larger write cut. The rest of a line already cut goes first, on
   * its own; a line longer than a piece goes alone. Returns what is left, as `#writeSome` does.
   */
  #writeInWholeLines(data: string | Buffer): string | Buffer | null {
    let bytes = typeof data === 'string' ? Buffer.from(data) : data;
    while (bytes.length > 0) {
      const piece = bytes.subarray(0, wholeLinesEnd(bytes, this.#midLine));
      const rest = this.#writeSome(piece);
      if (rest === null) return null;
      bytes = bytes.subarray(piece.length - rest.length);
      if (rest.length > 0) return bytes;
    }
    return NOTHING_LEFT;
  }

  #drop(lines: number): void {
    this.#droppedUnreported += lines;
    this.#droppedTotal += lines;
  }

  /**
   * Gives up on an entry. Of a batch the pipe took part of, the lines lost are those whose newline had
   * not gone yet — the one cut short among them — not the whole batch; but a line cut just before its
   * newline arrives whole, as the newline written ahead of anything later ends it. A notice that never
   * arrived whole is owed again, by the next one.
   */
  #dropUnwritten(entry: Unwritten): void {
    if (typeof entry.data === 'string') {
      this.#droppedUnreported += entry.reported;
      return this.#drop(entry.lines);
    }
    const endedByNextNewline = this.#midLine && entry.data[0] === NEWLINE ? 1 : 0;
    if (this.#midLine) {
      // The newline that ends the half line goes first: what follows it starts a line.
      this.#cutLineOpen = true;
      this.#midLine = false;
    }
    if (entry.reported > 0) {
      if (!endedByNextNewline) this.#droppedUnreported += entry.reported;
      return;
    }
    this.#drop(countNewlines(entry.data) - endedByNextNewline);
  }

  /** At exit: what waits, retried while the reader takes it, for at most `exitWaitMs`. */
  #writeAllBeforeExit(): void {
    this.#exiting = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#enqueueBatch();
    this.#keepNewest();
    // Lines were lost and nothing after them got through to say so: say it now.
    this.#endBatch(true);
    this.#exitGivesUpAt ||= Date.now() + this.options.exitWaitMs;
    while (!this.#writeWaiting() && Date.now() < this.#exitGivesUpAt) sleepMs(5);
    // Whatever is still waiting is lost with the process; count it, for anything still reading it.
    for (const lost of this.#unwritten.splice(0)) this.#dropUnwritten(lost);
    this.#unwrittenChars = 0;
  }

  /** The batch into the queue, unwritten, so that `keepNewest` weighs it with the rest. */
  #enqueueBatch(): void {
    if (this.#batch === '' || this.#unwritten.length === 0) return this.#endBatch();
    this.#unwritten.push({ data: this.#batch, lines: this.#batchLines, reported: 0, chars: this.#batch.length });
    this.#unwrittenChars += this.#batch.length;
    this.#batch = '';
    this.#batchLines = 0;
  }

  /**
   * Drops the oldest waiting batches beyond `exitKeepChars`, all but the first (which a write may
   * have cut mid-line: the reader must get the rest of that line), and puts the notice of what was
   * dropped in their place.
   */
  #keepNewest(): void {
    const waiting = this.#unwritten;
    let firstKept = waiting.length;
    let kept = 0;
    while (firstKept > 1 && kept + waiting[firstKept - 1]!.chars <= this.options.exitKeepChars)
      kept += waiting[--firstKept]!.chars;
    for (const dropped of waiting.splice(1, firstKept - 1)) {
      this.#unwrittenChars -= dropped.chars;
      this.#dropUnwritten(dropped);
    }
    if (this.#droppedUnreported === 0 || waiting.length === 0) return;
    const reported = this.#droppedUnreported;
    const notice = `${droppedNotice(reported)}\n`;
    this.#droppedUnreported = 0;
    waiting.splice(1, 0, { data: notice, lines: 0, reported, chars: notice.length });
    this.#unwrittenChars += notice.length;
  }
}

/**
 * Where the next piece of `bytes` ends: after the first line when it is the rest of a cut one or too
 * long for a piece; else after the last whole line that fits one.
 */
function wholeLinesEnd(bytes: Buffer, restOfCutLine: boolean): number {
  const firstLineEnd = bytes.indexOf(NEWLINE) + 1 || bytes.length;
  if (restOfCutLine || firstLineEnd >= WHOLE_OR_NOTHING_BYTES) return firstLineEnd;
  // No newline in reach (a last line without one): the rest goes as one piece, never an empty one.
  return bytes.lastIndexOf(NEWLINE, WHOLE_OR_NOTHING_BYTES - 1) + 1 || firstLineEnd;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count += 1;
  return count;
}

/** Blocks the thread: only at exit, where there is no event loop left to wait on. */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A line of the gateway's own shape, so log pipelines parse it like any other. */
function droppedNotice(count: number): string {
  return JSON.stringify({
    level: 40,
    time: Date.now(),
    service: 'kibo-auth-gateway',
    droppedLines: count,
    msg: 'log lines dropped: stdout was not being read fast enough, or not at all',
  });
}
