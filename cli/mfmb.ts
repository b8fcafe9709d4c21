import { FileLoadError, inspectFeatureFile, loadFeatureFile } from '../src/core/data/files/load.ts';
import { formatFileSummary } from '../src/core/data/files/summaryText.ts';
import { escapeTerminal, escapeTerminalDeep } from '../src/core/text/terminal.ts';
import { nodeFileSource, progressLine } from './fileSource.ts';
import { checkInputFile, checkOutputFile } from './paths.ts';
import { parseArgs, SWEEP_COMMANDS, USAGE, UsageError, type CliOptions } from './args.ts';

/**
 * The Node front end: the same core as the browser app, driven by flags. This module loads no
 * tfjs: help and inspect start at once; train, sweep, ablate and info import ./run.ts; the
 * big-sweep commands (cell, worker, status, collect, --queue) import ./sweep/sweeps.ts.
 * Exit status: 0 done, 1 failed, 2 usage error (nothing was run), 3 a run stopped on a non-finite loss.
 * Everything printed that may hold text from a file (field names, dtypes, file names, messages
 * quoting them) goes through escapeTerminal: a file cannot send the terminal control sequences.
 */

const err = (s: string) => process.stderr.write(s + '\n');

/** A file's summary as lines, every string read from the file escaped before it is laid out. */
function summaryLines(summary: Parameters<typeof formatFileSummary>[0]): string {
  return escapeTerminal(formatFileSummary(escapeTerminalDeep(summary)), { keepNewlines: true });
}

async function inspect(opts: CliOptions): Promise<number> {
  const src = nodeFileSource(opts.dataPath!);
  try {
    const read = {
      subset: opts.subset,
      maxBytes: opts.maxBytes,
      standardize: opts.config.data.standardize,
      onProgress: progressLine(opts.quiet),
    };
    const summary = opts.structureOnly
      ? await inspectFeatureFile(src, read)
      : (await loadFeatureFile(src, read)).summary;
    if (process.stderr.isTTY && !opts.quiet) process.stderr.write('\r\x1b[K');
    console.log(summaryLines(summary));
    console.log(
      opts.structureOnly
        ? 'structure OK (arrays not read; run without --structure to validate the values)'
        : 'valid: ready to train',
    );
    return 0;
  } catch (e) {
    if (process.stderr.isTTY && !opts.quiet) process.stderr.write('\r\x1b[K');
    const msg = e instanceof Error ? e.message : String(e);
    err(`mfmb: refused: ${escapeTerminal(msg)}`);
    if (e instanceof FileLoadError && e.kind === 'too-big' && e.maxSubset)
      err(`  try: mfmb inspect ${escapeTerminal(opts.dataPath!)} --subset ${e.maxSubset}   (or raise --max-gb)`);
    return 1;
  } finally {
    src.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (opts.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  // Everything the command line names is checked before any work (and before tfjs loads).
  if (opts.dataPath) checkInputFile(opts.dataPath, opts.command === 'inspect' ? 'inspect' : '--data');
  if (opts.json) checkOutputFile(opts.json);
  if (opts.command === 'inspect') return inspect(opts);
  // Big sweeps (queue, workers, array shares): their module loads bullmq and tfjs only as needed.
  if (SWEEP_COMMANDS.includes(opts.command) || opts.sweep.queue) {
    const { sweepCommand } = await import('./sweep/sweeps.ts');
    return sweepCommand(opts);
  }
  const { runCommand } = await import('./run.ts');
  return runCommand(opts);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Print the message only: tfjs-wasm's own uncaught-exception hook would dump its whole module.
    // A usage error's lines are the CLI's own (one problem a line); any other message may quote a
    // file, so its line breaks are escaped too.
    const msg = e instanceof Error ? e.message : String(e);
    const lines = e instanceof UsageError ? msg.split('\n') : [msg];
    for (const line of lines) err(`mfmb: ${escapeTerminal(line)}`);
    if (e instanceof UsageError) {
      err('run `mfmb --help` for the commands and flags');
      process.exit(2);
    }
    process.exit(1);
  },
);
