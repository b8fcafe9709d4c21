/**
 * Early stopping on valid MAE with best-weights bookkeeping, and the plateau lr decay, as in the
 * released code: stop once `patience` epochs pass without improvement; multiply the lr by `factor`
 * when the bad-epoch count exceeds `plateauPatience` (PyTorch's ReduceLROnPlateau, mode 'min').
 */
export class EarlyStopping {
  best = Infinity;
  bestEpoch = -1; // 0-based
  private plateauBad = 0;

  constructor(
    private readonly patience: number,
    private readonly plateauPatience: number,
    private readonly factor: number,
  ) {}

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
