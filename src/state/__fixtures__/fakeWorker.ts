/**
 * The worker as the store's unit tests see it: records what the store sends (structured-cloned, as
 * postMessage would, unless `clone` is false: a test that checks the very Blob it handed over) and
 * lets a test answer with `emit`.
 */
import type { FromWorker, ToWorker } from '../../worker/protocol.ts';
import type { WorkerLike } from '../runtime.ts';

export class FakeWorker implements WorkerLike {
  sent: ToWorker[] = [];
  terminated = false;
  onmessage: WorkerLike['onmessage'] = null;
  onerror: WorkerLike['onerror'] = null;
  constructor(private readonly clone = true) {}
  postMessage(msg: ToWorker): void {
    this.sent.push(this.clone ? structuredClone(msg) : msg);
  }
  terminate(): void {
    this.terminated = true;
  }
  emit(msg: FromWorker): void {
    this.onmessage?.({ data: structuredClone(msg) });
  }
  types(): string[] {
    return this.sent.map((m) => m.type);
  }
  /** The messages of one type, in the order sent. */
  all<T extends ToWorker['type']>(type: T): Extract<ToWorker, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ToWorker, { type: T }> => m.type === type);
  }
  last<T extends ToWorker['type']>(type: T): Extract<ToWorker, { type: T }> {
    const m = [...this.sent].reverse().find((x) => x.type === type);
    if (!m) throw new Error(`no ${type} message was sent`);
    return m as Extract<ToWorker, { type: T }>;
  }
}
