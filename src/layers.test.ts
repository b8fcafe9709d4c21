import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

// The layer rules live in eslint.config.js; these tests feed it imports that break them (and some
// that do not) under real file names, so a rule that silently stops matching fails here.
const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

describe('layer rules (eslint.config.js)', () => {
  it('src/ui and src/state may not load tfjs or the tfjs side of core', async () => {
    for (const file of ['src/ui/Probe.tsx', 'src/state/probe.ts']) {
      expect(
        await layerErrors(file, `import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n`),
      ).toHaveLength(1);
      expect(
        await layerErrors(file, `import { buildModel } from '../core/model/build.ts';\nexport const x = buildModel;\n`),
      ).toHaveLength(1);
      expect(
        await layerErrors(file, `import { train } from '../core/train/trainer.ts';\nexport const x = train;\n`),
      ).toHaveLength(1);
      expect(await layerErrors(file, `import * as tf from '../core/tf.ts';\nexport const x = tf;\n`)).toHaveLength(1);
      // Types are erased: importing one costs the page nothing.
      expect(
        await layerErrors(
          file,
          `import type { ModelSetting } from '../core/eval/experiment.ts';\nexport type X = ModelSetting;\n`,
        ),
      ).toEqual([]);
      // The DOM-free, tfjs-free parts of core are for everyone.
      expect(
        await layerErrors(
          file,
          `import { defaultRunConfig } from '../core/config/config.ts';\nexport const x = defaultRunConfig;\n`,
        ),
      ).toEqual([]);
    }
  });

  it('src/core may not import react, zustand, worker, state or ui, nor use page globals', async () => {
    const file = 'src/core/eval/probe.ts';
    expect(await layerErrors(file, `import { useState } from 'react';\nexport const x = useState;\n`)).toHaveLength(1);
    expect(await layerErrors(file, `import { create } from 'zustand';\nexport const x = create;\n`)).toHaveLength(1);
    expect(
      await layerErrors(file, `import { useStore } from '../../state/store.ts';\nexport const x = useStore;\n`),
    ).toHaveLength(1);
    expect(await layerErrors(file, `import { App } from '../../ui/App.tsx';\nexport const x = App;\n`)).toHaveLength(1);
    expect(
      await layerErrors(
        file,
        `import type { WorkerRequest } from '../../worker/protocol.ts';\nexport type X = WorkerRequest;\n`,
      ),
    ).toHaveLength(1);
    expect(await layerErrors(file, `export const w = window.innerWidth;\n`)).toHaveLength(1);
    expect(await layerErrors(file, `export const d = document.title;\n`)).toHaveLength(1);
    expect(await layerErrors(file, `import * as tf from '../tf.ts';\nexport const x = tf;\n`)).toEqual([]);
  });

  it('src/worker may import core but not state or ui', async () => {
    const file = 'src/worker/probe.ts';
    expect(
      await layerErrors(file, `import { useStore } from '../state/store.ts';\nexport const x = useStore;\n`),
    ).toHaveLength(1);
    expect(await layerErrors(file, `import { App } from '../ui/App.tsx';\nexport const x = App;\n`)).toHaveLength(1);
    expect(
      await layerErrors(file, `import { train } from '../core/train/trainer.ts';\nexport const x = train;\n`),
    ).toEqual([]);
  });

  it('the tree as committed passes its own layer rules', async () => {
    const results = await eslint.lintFiles(['src']);
    const broken = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals')
        .map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(broken).toEqual([]);
  });
});
