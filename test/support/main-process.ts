/** Runs src/main.ts as `npm start` does, in its own process, and waits for the GraphiQL line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface MainProcess {
  child: ChildProcess;
  url: string;
  output(): string;
}

export function spawnMain(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function startMain(
  env: Record<string, string>,
  children: ChildProcess[],
  startTimeoutMs = 15_000,
): Promise<MainProcess> {
  const child = spawnMain(env);
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const announced = /GraphiQL is at http:\/\/localhost:(\d+)/;
  const deadline = Date.now() + startTimeoutMs;
  while (!announced.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`gateway did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, url: `http://127.0.0.1:${announced.exec(output)![1]}`, output: () => output };
}
