import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, type CliOptions } from '../args.ts';

const parsed = (argv: string[]) => parseArgs(argv) as CliOptions;

function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('big-sweep flags', () => {
  it('reads the queue, worker, array and collect flags', () => {
    const s = parsed(['sweep', '--queue', 'redis://h:6379/2', '--name', 't4', '--detach', '--attempts', '5']);
    expect(s.sweep).toMatchObject({ queue: 'redis://h:6379/2', name: 't4', detach: true, attempts: 5 });
    expect(parsed(['worker', '--queue', 'redis://h', '--concurrency', '4', '--lock-ms', '2000']).sweep).toMatchObject({
      concurrency: 4,
      lockMs: 2000,
      name: 'mfmb',
    });
    expect(parsed(['cell', '--index', '0', '--of', '3', '--out', 'd']).sweep).toMatchObject({
      index: 0,
      of: 3,
      out: 'd',
    });
    expect(parsed(['collect', '--dir', 'd', '--json', 'o.json']).sweep.dir).toBe('d');
    expect(parsed(['sweep']).sweep).toMatchObject({ queue: null, attempts: 3, lockMs: 30_000, concurrency: 1 });
  });

  it('refuses flags out of place, with one line each', () => {
    expect(usageError(['sweep', '--queue', 'http://h'])).toMatch(/--queue: expected redis:\/\//);
    expect(usageError(['worker'])).toBe('worker needs --queue redis://HOST:PORT');
    expect(usageError(['status', '--queue', 'redis://h', '--name', 'a b'])).toMatch(/--name/);
    expect(usageError(['sweep', '--detach'])).toBe('--detach needs --queue');
    expect(usageError(['cell', '--index', '3', '--of', '3', '--out', 'd'])).toMatch(/not below --of 3/);
    expect(usageError(['cell', '--of', '3', '--out', 'd'])).toMatch(/cell needs --index K --of N --out DIR/);
    expect(usageError(['collect', '--json', 'o.json'])).toMatch(/either --queue/);
    expect(usageError(['collect', '--dir', 'd'])).toBe('collect needs --json FILE');
    expect(usageError(['sweep', '--concurrency', '2'])).toMatch(/--concurrency applies to worker/);
    expect(usageError(['train', '--index', '1'])).toMatch(/--index applies to cell/);
    expect(usageError(['worker', '--queue', 'redis://h', '--json', 'x.json'])).toMatch(/--json applies to/);
  });
});
