/**
 * Early stopping on valid MAE with best-weights bookkeeping, and the plateau lr decay, as in the
 * released code: stop once `patience` epochs pass without improvement; multiply the lr by `factor`
 * when the bad-epoch count exceeds `plateauPatience` (PyTorch's ReduceLROnPlateau, mode 'min').
 */
/** What a resumed run needs to stop and decay the lr exactly where the uninterrupted run would. */
export interface EarlyStoppingState {
  best: number; // Infinity before the first finite valid MAE
  bestEpoch: number; // 0-based, -1 before any improvement
  plateauBad: number;
}

export class EarlyStopping {
  best = Infinity;
  bestEpoch = -1; // 0-based
  private plateauBad = 0;

  constructor(
    private readonly patience: number,
    private readonly plateauPatience: number,
    private readonly factor: number,
  ) {}

  exportState(): EarlyStoppingState {
    return { best: this.best, bestEpoch: this.bestEpoch, plateauBad: this.plateauBad };
  }

  importState(s: EarlyStoppingState): void {
    if (typeof s?.best !== 'number' || !Number.isInteger(s.bestEpoch) || !Number.isInteger(s.plateauBad))
      throw new Error('not an early-stopping state (best, bestEpoch, plateauBad)');
    this.best = s.best;
    this.bestEpoch = s.bestEpoch;
    this.plateauBad = s.plateauBad;
  }

  /** Returns whether this epoch improved, whether to stop, and the lr multiplier to apply now. */
  update(epoch: number, validMae: number): { improved: boolean; stop: boolean; lrScale: number } {
    const improved = validMae < this.best;
    let lrScale = 1;
    if (improved) {
      this.best = validMae;
      this.bestEpoch = epoch;
      this.plateauBad = 0;
    } else if (++this.plateauBad > this.plateauPatience) {
      lrScale = this.factor;
      this.plateauBad = 0;
    }
    return { improved, stop: epoch - this.bestEpoch >= this.patience, lrScale };
  }
}
