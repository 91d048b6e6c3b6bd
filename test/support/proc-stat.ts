/** What /proc says of a process, as an operator would read it. */
import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces, so the fields start
 * after the last ')'): the state first, then the parent's pid; proc(5)'s field n is index n − 3.
 * Throws if the process is gone.
 */
export function procStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
