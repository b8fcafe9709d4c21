import { DEFAULT_TEST_RATES } from '../../core/config/config.ts';
import { listProblem, NOISE_SCALE_LIMITS } from '../../core/config/validateConfig.ts';
import { useAppStore } from '../bindings.ts';
import { NumberField, NumberListField, Segmented, Slider, Toggle } from '../controls.tsx';
import { useStoreValue } from '../hooks.ts';
import { LockedFieldset, Panel } from '../Panel.tsx';

// The store's and the CLI's rule and message (core/config/validateConfig.ts).
const validateRates = (list: number[]): string | null => listProblem('missing.testRates', list);

export function MissingPanel() {
  const missing = useStoreValue((s) => s.config.missing);
  const setConfig = useAppStore((s) => s.setConfig);
  const perRate = missing.protocol === 'per-rate';
  const random = missing.trainRate === 'random';
  const nModels = perRate ? missing.testRates.length : 1;

  return (
    <Panel
      title="Missing data"
      subtitle="How features are dropped for training and for the robustness test."
      testId="panel-missing"
    >
      <LockedFieldset>
        <Segmented<'train-once' | 'per-rate'>
          label="Protocol"
          value={missing.protocol}
          options={[
            { value: 'train-once', label: 'train once', title: 'One model trained at one rate, tested at every rate' },
            { value: 'per-rate', label: 'per rate', title: 'One model per rate, trained and tested at that rate' },
          ]}
          testId="missing-protocol"
          hint={
            perRate
              ? `per-rate: ${nModels} models per setting and seed, each trained and tested at its own rate`
              : 'train-once: one model per setting and seed, tested at every rate of the grid'
          }
          onChange={(v) => setConfig((c) => void (c.missing.protocol = v))}
        />

        <div className={`train-rate${perRate ? ' is-off' : ''}`}>
          <Slider
            label="Training missing rate"
            value={typeof missing.trainRate === 'number' ? missing.trainRate : 0.3}
            min={0}
            max={1}
            step={0.05}
            disabled={perRate || random}
            testId="missing-train-rate"
            hint={
              perRate
                ? 'not used by the per-rate protocol'
                : random
                  ? 'a rate drawn from the test grid for every batch'
                  : undefined
            }
            onCommit={(v) => setConfig((c) => void (c.missing.trainRate = v))}
          />
          <Toggle
            label="random per batch"
            checked={random}
            disabled={perRate}
            testId="missing-train-random"
            onChange={(on) => setConfig((c) => void (c.missing.trainRate = on ? 'random' : 0.3))}
          />
        </div>

        <NumberListField
          label="Test-rate grid"
          value={missing.testRates}
          validate={validateRates}
          testId="missing-test-rates"
          hint={
            <>
              ascending, in [0, 1]{' '}
              <button
                type="button"
                className="link-btn"
                onClick={() => setConfig((c) => void (c.missing.testRates = [...DEFAULT_TEST_RATES]))}
              >
                reset to 0, 0.1 … 1
              </button>
            </>
          }
          onCommit={(v) => setConfig((c) => void (c.missing.testRates = v))}
        />

        <div className="grid-2">
          <Segmented<'zero' | 'noise'>
            label="Replace dropped audio/vision with"
            value={missing.replace}
            options={[
              { value: 'zero', label: 'zeros' },
              { value: 'noise', label: 'noise' },
            ]}
            testId="missing-replace"
            onChange={(v) => setConfig((c) => void (c.missing.replace = v))}
          />
          <Segmented<'frame' | 'modality'>
            label="Drop unit"
            value={missing.level}
            options={[
              { value: 'frame', label: 'frames', title: 'Each time step dropped independently' },
              { value: 'modality', label: 'modalities', title: 'A whole modality of a sample dropped at once' },
            ]}
            testId="missing-level"
            onChange={(v) => setConfig((c) => void (c.missing.level = v))}
          />
        </div>
        {missing.replace === 'noise' ? (
          <NumberField
            label="Noise scale (× feature std of the train split)"
            value={missing.noiseScale}
            min={NOISE_SCALE_LIMITS.min}
            max={NOISE_SCALE_LIMITS.max}
            step={0.1}
            testId="missing-noise-scale"
            onCommit={(v) => setConfig((c) => void (c.missing.noiseScale = v))}
          />
        ) : null}
      </LockedFieldset>
      <p className="note" data-testid="text-masking-note">
        <strong>Note.</strong> Text is masked on its <em>feature vectors</em>: a dropped text position becomes zeros, or
        the file’s <code>text_unk</code> vector when a loaded file provides one (audio and vision follow the replacement
        above). The paper replaces dropped token ids with <code>[UNK]</code> and fine-tunes BERT, which this browser app
        does not do, so its numbers are not directly comparable.
      </p>
    </Panel>
  );
}
