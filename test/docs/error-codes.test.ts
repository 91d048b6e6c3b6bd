import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/error-codes.js';

/** The rows of the README's Errors table, as `code → { status, when }`. */
function readmeErrorTable(): Map<string, { status: string; when: string }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'));
  const table = section.slice(section.indexOf('| code | HTTP status | when |'));
  const rows = new Map<string, { status: string; when: string }>();
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [code, status, when] = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim());
    rows.set(code!.replace(/`/g, ''), { status: status!, when: when! });
  }
  return rows;
}

describe('the error-code catalogue', () => {
  it('is exactly what the README Errors table lists, with the same statuses and meanings', () => {
    const table = readmeErrorTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      const row = table.get(code)!;
      expect(row.status, code).toBe('httpStatus' in entry ? String(entry.httpStatus) : '—');
      expect(row.when, code).toBe(entry.when);
    }
  });
});
