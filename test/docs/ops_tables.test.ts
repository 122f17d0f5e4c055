// scripts/ops-tables.ts: measured tables in the docs are rendered from
// bench/ops.json between markers, so they cannot drift from the data.
import { describe, expect, it } from 'vitest';
import { formatCell, opsTable, renderOpsTables, type OpsFile } from '../../scripts/ops-tables.js';

const ops: OpsFile = {
  groups: {
    walk: [
      { N: 1024, path: 'blocked', 'fwd ms': 36.431962, note: '' },
      { N: 1024, path: 'materialized', 'fwd ms': 35.3, note: 'a | b' },
      { N: 4096, path: 'blocked', 'fwd ms': 570.12345 },
    ],
  },
};

describe('ops tables', () => {
  it('formats cells as bench:ops prints them', () => {
    expect([formatCell(4096), formatCell(36.431962), formatCell(0.000123456), formatCell(14456.79), formatCell('x|y'), formatCell(undefined)]).toEqual(['4096', '36.43', '0.0001235', '14457', 'x\\|y', '']);
  });

  it('renders a group, with columns and filters', () => {
    expect(opsTable(ops.groups['walk']!, ['N', 'fwd ms'], { path: 'blocked' })).toBe('| N | fwd ms |\n|---:|---:|\n| 1024 | 36.43 |\n| 4096 | 570.1 |');
    expect(opsTable(ops.groups['walk']!).split('\n')[0]).toBe('| N | path | fwd ms | note |');
  });

  it('rewrites only the marked tables of a page and rejects unknown groups or columns', () => {
    const page = ['# p', '<!-- ops-table: walk columns="N, path" where="N=4096" -->', '| stale |', '<!-- /ops-table -->', 'text | kept'].join('\n');
    expect(renderOpsTables(page, ops, 'p.md')).toBe(['# p', '<!-- ops-table: walk columns="N, path" where="N=4096" -->', '| N | path |', '|---:|---|', '| 4096 | blocked |', '<!-- /ops-table -->', 'text | kept'].join('\n'));
    expect(() => renderOpsTables('<!-- ops-table: nope -->\n<!-- /ops-table -->', ops, 'p.md')).toThrow(/no group "nope"/);
    expect(() => renderOpsTables('<!-- ops-table: walk columns="ms" -->\n<!-- /ops-table -->', ops, 'p.md')).toThrow(/no column\(s\) ms/);
  });
});
