/**
 * The Dockerfile, read as data and replayed without a container runtime (none is available here):
 * each stage becomes a temporary folder, its COPY lines copy from the repository or from the earlier
 * stage's folder, its RUN lines run there. Only the instructions below are understood; anything else
 * fails the test that replays it, so the file stays checkable.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { ROOT } from './main-process.js';

export type Instruction =
  | { kind: 'WORKDIR'; path: string }
  | { kind: 'COPY'; from: string | undefined; sources: string[]; destination: string }
  | { kind: 'RUN'; command: string }
  | { kind: 'ENV'; name: string; value: string }
  | { kind: 'USER'; user: string }
  | { kind: 'EXPOSE'; port: number }
  | { kind: 'CMD'; argv: string[] };

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export function readDockerfile(path = join(ROOT, 'Dockerfile')): Stage[] {
  const lines = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...words] = line.split(/\s+/);
    const rest = line.slice(keyword.length).trim();
    if (keyword === 'FROM') {
      const match = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest);
      if (!match) throw new Error(`FROM must name its stage ("FROM image AS name"): ${line}`);
      stages.push({ image: match[1]!, name: match[2]!, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`instruction before FROM: ${line}`);
    stage.instructions.push(parseInstruction(keyword, words, rest, line));
  }
  return stages;
}

function parseInstruction(keyword: string, words: string[], rest: string, line: string): Instruction {
  switch (keyword) {
    case 'WORKDIR':
      return { kind: 'WORKDIR', path: rest };
    case 'COPY': {
      const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
      if (words.some((word) => word.startsWith('--'))) throw new Error(`COPY flag not understood: ${line}`);
      const destination = words.pop();
      if (!destination || words.length === 0) throw new Error(`COPY needs sources and a destination: ${line}`);
      return { kind: 'COPY', from, sources: words, destination };
    }
    case 'RUN':
      return { kind: 'RUN', command: rest };
    case 'ENV': {
      const match = /^([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(rest);
      if (!match) throw new Error(`ENV must be NAME=value: ${line}`);
      return { kind: 'ENV', name: match[1]!, value: match[2]! };
    }
    case 'USER':
      return { kind: 'USER', user: rest };
    case 'EXPOSE':
      return { kind: 'EXPOSE', port: Number(rest) };
    case 'CMD': {
      const argv: unknown = JSON.parse(rest);
      if (!Array.isArray(argv) || !argv.every((arg) => typeof arg === 'string'))
        throw new Error(`CMD must be the exec form, a JSON array of strings: ${line}`);
      return { kind: 'CMD', argv };
    }
    default:
      throw new Error(`Dockerfile instruction the replay does not understand: ${line}`);
  }
}

export interface ReplayedStage {
  stage: Stage;
  /** The folder standing for the stage's filesystem root. */
  root: string;
  /** The stage's final working directory, inside `root`. */
  workdir: string;
  env: Record<string, string>;
  /** The RUN commands, in order, with how each was carried out. */
  runs: Array<{ command: string; how: 'ran' | 'substituted' }>;
}

export interface ReplayOptions {
  /** Earlier stages, for COPY --from. */
  stages?: ReplayedStage[];
  /**
   * RUN commands replaced by an equivalent here: the build stage's full `npm ci` becomes a link to
   * this checkout's node_modules, which `npm ci` installed from the same lock file.
   */
  substitute?: (command: string, workdir: string) => boolean;
  /** Extra environment for RUN commands (npm's cache settings, say). */
  runEnv?: Record<string, string>;
}

/** Carries out one stage's instructions in a fresh temporary folder. */
export function replayStage(stage: Stage, options: ReplayOptions = {}): ReplayedStage {
  const root = mkdtempSync(join(tmpdir(), `kibo-image-${stage.name}-`));
  const inRoot = (path: string) => join(root, path);
  let workdir = '/';
  const env: Record<string, string> = {};
  const runs: ReplayedStage['runs'] = [];
  for (const instruction of stage.instructions) {
    switch (instruction.kind) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, instruction.path);
        mkdirSync(inRoot(workdir), { recursive: true });
        break;
      case 'COPY': {
        const source = instruction.from
          ? options.stages?.find((replayed) => replayed.stage.name === instruction.from)
          : undefined;
        if (instruction.from && !source) throw new Error(`COPY --from=${instruction.from}: no such earlier stage`);
        const target = posix.resolve(workdir, instruction.destination);
        for (const path of instruction.sources) {
          const from = source ? join(source.root, posix.resolve('/', path)) : join(ROOT, path);
          // "COPY a b ./" copies into the folder; "COPY src ./src" copies the folder to that name.
          const to = instruction.destination.endsWith('/')
            ? join(inRoot(target), posix.basename(path))
            : inRoot(target);
          cpSync(from, to, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        const cwd = inRoot(workdir);
        if (options.substitute?.(instruction.command, cwd)) {
          runs.push({ command: instruction.command, how: 'substituted' });
          break;
        }
        // Only npm: the test runs these on the host, and npm commands stay inside their folder.
        if (!/^npm (ci|run) /.test(instruction.command))
          throw new Error(`RUN the replay does not carry out on the host: ${instruction.command}`);
        execFileSync('sh', ['-c', instruction.command], {
          cwd,
          env: { ...process.env, ...env, ...options.runEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        runs.push({ command: instruction.command, how: 'ran' });
        break;
      }
      case 'ENV':
        env[instruction.name] = instruction.value;
        break;
      case 'USER':
      case 'EXPOSE':
      case 'CMD':
        break;
    }
  }
  return { stage, root, workdir: inRoot(workdir), env, runs };
}

/** The build stage's `npm ci` (with dev dependencies), stood in for by this checkout's node_modules. */
export function linkNodeModules(command: string, workdir: string): boolean {
  if (!/^npm ci\b/.test(command) || command.includes('--omit=dev')) return false;
  symlinkSync(join(ROOT, 'node_modules'), join(workdir, 'node_modules'), 'dir');
  return true;
}
