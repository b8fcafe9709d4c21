/**
 * The state layer's public surface for the UI. The page never imports tfjs: model work happens in
 * the worker (src/worker/worker.ts), which the store starts on first use.
 */
export { useAppStore, createAppStore, type AppStore, type StoreDeps, type WorkerLike } from './store.ts';
export type { AppState, BackendState, JobStatus, LiveProgress, StoredJob } from './types.ts';
export { PRESETS, presetById, quickDemoPreset, ablationPreset, robustnessPreset, type PresetId, type PresetInfo, type PresetRun } from './presets.ts';
export { encodeConfig, decodeConfig, configToHash, shareUrl, readUrlState, type UrlState } from './urlCodec.ts';
export { runsCsv, summaryCsv, auilcCsv, epochsCsv } from './csv.ts';
export { encodeWeightsFile, decodeWeightsFile, WEIGHTS_FORMAT, type WeightsFile } from './weightsFile.ts';
export { runConfigProblems, configError } from './validateConfig.ts';
export { estimateEta, isActive } from './slices/job.ts';
export { jobResults, exportFileName, datasetInfoFor } from './jobResults.ts';
export { startUrlSync } from './urlSync.ts';
