/**
 * Runs after Playwright's list reporter: prints what the tests recorded (annotations `note` and
 * `figure`), each test's time, the suite's total, and as the very last line the summary CI reads:
 * `N passed, N failed, N skipped`.
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

interface Row {
  title: string;
  project: string;
  status: string;
  seconds: number;
  notes: string[];
  figures: string[];
}

export default class SummaryReporter implements Reporter {
  private rows: Row[] = [];
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private start = Date.now();
  private endResult: FullResult | null = null;

  printsToStdio(): boolean {
    return true;
  }

  onBegin(): void {
    this.start = Date.now();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    // Only the final attempt counts (retries are off, but be exact).
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    const file = test.location.file.replace(/^.*[\\/]e2e[\\/](tests[\\/])?/, '');
    const ann = result.annotations.length ? result.annotations : test.annotations;
    this.rows.push({
      title: `${file} › ${test.title}`,
      project: test.parent.project()?.name ?? '',
      status: result.status,
      seconds: result.duration / 1000,
      notes: ann.filter((a) => a.type === 'note' || a.type === 'skip').map((a) => a.description ?? ''),
      figures: ann.filter((a) => a.type === 'figure').map((a) => a.description ?? ''),
    });
    if (result.status === 'skipped') this.skipped++;
    else if (test.outcome() === 'expected' || test.outcome() === 'flaky') this.passed++;
    else this.failed++;
  }

  onEnd(result: FullResult): void {
    this.endResult = result;
  }

  async onExit(): Promise<void> {
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out('');
    out('e2e results:');
    for (const r of this.rows) {
      const tag = r.status === 'passed' ? 'ok  ' : r.status === 'skipped' ? 'skip' : 'FAIL';
      out(`  ${tag} ${r.seconds.toFixed(1).padStart(6)} s  [${r.project}] ${r.title}`);
      for (const n of r.notes) out(`                ${n.split('\n').join('\n                ')}`);
    }
    const figures = this.rows.flatMap((r) => r.figures.map((f) => `  ${f}  (${r.title.replace(/ ›.*/, '')})`));
    if (figures.length) {
      out('e2e figures:');
      for (const f of figures) out(f);
    }
    // Failures outside any test (the web server did not start, a config error) count as one failure.
    if (
      this.endResult &&
      this.endResult.status !== 'passed' &&
      this.failed === 0 &&
      this.endResult.status !== 'interrupted'
    ) {
      out(`e2e: the run ended as "${this.endResult.status}" outside any test`);
      this.failed = 1;
    }
    out(`e2e: total ${((Date.now() - this.start) / 1000).toFixed(0)} s`);
    out(`${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`);
  }
}
