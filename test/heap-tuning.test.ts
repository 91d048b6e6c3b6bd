/** The V8 setting the gateway makes at start (src/heap-tuning.ts) leaves an operator's own choice alone. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { setByOperator } from '../src/heap-tuning.js';

describe('allocation-site pretenuring', () => {
  it.each(['--allocation-site-pretenuring', '--no-allocation-site-pretenuring', '--no-allocation_site_pretenuring'])(
    'is the operator’s when they set it on the command line (%s, as V8 spells it either way)',
    (flag) => {
      // Node hands the flag to V8 as given, and V8 reads `_` and `-` in flag names alike.
      const node = spawnSync(process.execPath, [flag, '-p', 'JSON.stringify(process.execArgv)'], { encoding: 'utf8' });
      expect(node.status).toBe(0);
      const execArgv = JSON.parse(node.stdout) as string[];
      expect(execArgv).toContain(flag);
      expect(setByOperator(execArgv, undefined)).toBe(true);
    },
  );

  it('is set by the gateway otherwise', () => {
    expect(setByOperator(['--max-semi-space-size=4', '--max-old-space-size=96'], '--enable-source-maps')).toBe(false);
  });
});
