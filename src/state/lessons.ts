/**
 * The guided workshop: a short sequence of lesson cards a teacher can hand out as links
 * (`?lesson=N`). Each card explains one idea of the paper, points at the control or chart that
 * shows it, and can run the step that makes it visible (set the config, start a job). Plain data
 * plus store calls: no DOM here, so the sequence is unit-tested like the rest of the state.
 */
import type { AppState } from './types.ts';

/** What a lesson's step may do: the store's own actions, nothing private. */
export type LessonApi = Pick<
  AppState,
  'applyPreset' | 'setBranches' | 'setConfig' | 'startJob' | 'status' | 'requestInspect'
>;

export interface Lesson {
  n: number; // 1-based: the `?lesson=N` of its link
  title: string;
  points: string[]; // what to say, one idea per line
  /** The control or chart the card points at: the data-testid of that element, and what to call it. */
  target: { testId: string; label: string };
  /** The step that shows the idea; absent when the lesson is about something the learner does by hand. */
  step?: { label: string; run(api: LessonApi): void };
}

const ALL = { macro: true, micro: true, recon: true };

export const LESSONS: readonly Lesson[] = [
  {
    n: 1,
    title: 'What missing-modality robustness is',
    points: [
      'A video review has three modalities: the words (text), the voice (audio) and the face (vision).',
      'In real recordings parts go missing: a muted microphone, a face out of frame, a noisy transcript.',
      'Here missing data is simulated: at a missing rate r, a share r of each sample’s frames is dropped (set to zero).',
      'A robust model loses little accuracy as r grows. The area under the curve of a metric against r (AUILC) sums that up in one number.',
    ],
    target: { testId: 'panel-missing', label: 'the Missing data panel' },
    step: {
      label: 'Train at 30 % missing, test at 0–100 %',
      run(api) {
        api.setConfig((c) => {
          c.missing.protocol = 'train-once';
          c.missing.trainRate = 0.3;
          c.missing.testRates = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
        });
      },
    },
  },
  {
    n: 2,
    title: 'Train the full model',
    points: [
      'MFMB-Net fuses the modalities in two streams: a macro stream (a few shared “hub” tokens that read every modality in turn) and a micro stream (frame-by-frame fusion).',
      'A reconstruction branch learns to fill in the dropped frames (the L_gen terms of the loss).',
      'Watch the loss terms fall: L_task is the prediction error, L_gen(t/a/v) the reconstruction error per modality, which joins after the warm-up epochs.',
    ],
    target: { testId: 'loss-chart', label: 'the training-loss chart' },
    step: { label: 'Run the Quick demo', run: (api) => api.applyPreset('quick-demo', true) },
  },
  {
    n: 3,
    title: 'Switch off the macro stream',
    points: [
      'The paper’s ablation “w/o F-1” removes the macro (hub) stream; the model then fuses only frame by frame.',
      'Train the same model without it on the same data and seed, and compare its robustness curve with the full model’s.',
      'One seed is noisy: the difference you see may be within run-to-run variation. The next lesson uses several settings side by side.',
    ],
    target: { testId: 'branch-macro', label: 'the Macro switch in the Model panel' },
    step: {
      label: 'Train without the macro stream',
      run(api) {
        api.applyPreset('quick-demo', false);
        const branches = { ...ALL, macro: false };
        api.setBranches(branches);
        api.startJob('train', [{ arch: 'mfmb', branches }]);
      },
    },
  },
  {
    n: 4,
    title: 'Compare AUILC across the ablation',
    points: [
      'The ablation trains four settings: everything on, without macro (F-1), without micro (F-2), without reconstruction.',
      'The AUILC table ranks them: a higher AUILC-Corr means predictions that stay correlated with the labels as more data goes missing.',
      'The paper reports the full model best on CMU-MOSI; on the built-in synthetic data the ordering depends on what the data contains (see docs/teaching-data.md).',
    ],
    target: { testId: 'ablation-view', label: 'the ablation table' },
    step: { label: 'Run the ablation', run: (api) => api.applyPreset('ablation', true) },
  },
  {
    n: 5,
    title: 'Look at a reconstruction',
    points: [
      'The reconstruction branch sees the masked input and predicts the clean features X̂ for every frame.',
      'Compare the three heatmaps of a test sample: the clean features, what the model got (dropped frames zeroed, red ticks), and what it rebuilt.',
      'On the built-in data with Shared content at 0 there is little for it to rebuild; raise the Shared content knob in the Data panel and train again to see the difference.',
    ],
    target: { testId: 'look-inside', label: 'the Look inside the model panel' },
    step: { label: 'Show test sample 0 at 50 % missing', run: (api) => api.requestInspect({ sample: 0, rate: 0.5 }) },
  },
  {
    n: 6,
    title: 'Load your own features',
    points: [
      'The playground reads CMU-MOSI/MOSEI feature files as MMSA writes them (.pkl) or as .npz.',
      'Files are read in this browser only; nothing is uploaded anywhere.',
      'Raw features can have very different scales per modality; standardising them keeps the reconstruction terms from swamping the task loss.',
    ],
    target: { testId: 'file-loader', label: 'the file loader in the Data panel' },
  },
];

/** The lesson a `?lesson=N` URL asks for, or null (no parameter, or no such lesson). */
export function lessonFromUrl(url: string): number | null {
  let raw: string | null;
  try {
    raw = new URL(url).searchParams.get('lesson');
  } catch {
    return null;
  }
  if (raw === null || !/^\d{1,3}$/.test(raw)) return null;
  const n = Number(raw);
  return LESSONS.some((l) => l.n === n) ? n : null;
}

/** The same URL with `?lesson=N` set (or removed for null), keeping the rest (the shared config in the hash). */
export function urlWithLesson(url: string, n: number | null): string {
  const u = new URL(url);
  if (n === null) u.searchParams.delete('lesson');
  else u.searchParams.set('lesson', String(n));
  return u.toString();
}
