import { describe, expect, it } from 'vitest';
import { MT19937 } from './random.ts';

describe('MT19937 state', () => {
  it('matches the reference stream (seed 5489: 3499211612, 581869302, 3890346734)', () => {
    const r = new MT19937(5489);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([3499211612, 581869302, 3890346734]);
  });

  it("a generator set to another one's state continues its stream exactly, across a regeneration", () => {
    const a = new MT19937(42);
    // 700 words: past the first 624-word block, so the saved index is mid-block after a twist.
    for (let i = 0; i < 700; i++) a.nextUint32();
    a.normal(); // leaves a spare normal cached
    const saved = structuredClone(a.getState()); // as IndexedDB / postMessage would copy it
    const b = new MT19937(1);
    b.setState(saved);
    const fromA = [a.normal(), ...Array.from({ length: 1000 }, () => a.random()), a.int(17)];
    const fromB = [b.normal(), ...Array.from({ length: 1000 }, () => b.random()), b.int(17)];
    expect(fromB).toEqual(fromA);
  });

  it('getState is a copy: drawing afterwards does not change what was saved', () => {
    const a = new MT19937(3);
    const s = a.getState();
    const first = a.nextUint32();
    for (let i = 0; i < 2000; i++) a.nextUint32();
    const b = new MT19937(0);
    b.setState(s);
    expect(b.nextUint32()).toBe(first);
  });

  it('refuses a state that is not one', () => {
    const r = new MT19937(1);
    expect(() => r.setState({ mt: new Uint32Array(10), mti: 0, spareNormal: null })).toThrow(/MT19937 state/);
    expect(() => r.setState({ mt: new Uint32Array(624), mti: 625, spareNormal: null })).toThrow(/MT19937 state/);
  });
});
