/**
 * "No input takes more than linear time", as a property: the same input at two sizes (k and 10k
 * copies of its mutated body), and the time per byte of the large one must not exceed the small
 * one's by more than a generous factor. Quadratic work shows up as ~10x, cubic as ~100x; a
 * constant-time or linear decoder stays near 1 (often below: fixed costs weigh on the small one).
 *
 * Timing on a shared machine is noisy, so each size is run repeatedly for a minimum time and the
 * fastest run counts; a ratio over the factor is measured twice more before it fails.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { applyBinary, serialise, type BinaryCase, type Seed } from './mutate.js';

/**
 * A full garbage collection before each series of runs, so that neither size pays for the other's
 * garbage (V8 lets a running process turn the gc() function on).
 */
const gc: () => void = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return () => {};
  }
})();

/** Per-byte slowdown of the 10x input beyond which the property fails. */
export const LINEAR_FACTOR = 4;

function fastest(fn: () => void, minMs: number): number {
  gc();
  let best = Infinity;
  let total = 0;
  let runs = 0;
  while (runs < 3 || total < minMs) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    best = Math.min(best, dt);
    total += dt;
    runs++;
    if (runs > 2000) break;
  }
  return Math.max(best, 1e-3);
}

export interface Scaled<T> {
  small: T;
  big: T;
  /** Sizes in bytes (or characters) for the per-byte figures. */
  smallSize: number;
  bigSize: number;
}

/** One plain pass over every byte (or character) of an input: the cheapest linear work there is. */
function scan(input: unknown): void {
  let h = 0;
  if (typeof input === 'string') for (let i = 0; i < input.length; i++) h = (h + input.charCodeAt(i)) | 0;
  else if (input instanceof Uint8Array) for (let i = 0; i < input.length; i++) h = (h + input[i]!) | 0;
  else if (Array.isArray(input)) for (const x of input) scan(x);
  sink = h;
}
let sink = 0;

/**
 * Throws when running `big` costs more than LINEAR_FACTOR times per byte what `small` costs.
 * A decoder may stop early on the small input (damage found at once) and read all of the big
 * one, which makes the small time meaningless: the reference per byte is therefore at least
 * SCAN_FACTOR times a plain pass over the big input's bytes. Returns the ratio.
 */
export function expectLinear<T>(s: Scaled<T>, run: (input: T) => void, what = 'input'): number {
  let ratio = Infinity;
  for (let attempt = 0; attempt < 3 && ratio > LINEAR_FACTOR; attempt++) {
    const ts = fastest(() => run(s.small), 20);
    const tb = fastest(() => run(s.big), 20);
    const tscan = fastest(() => scan(s.big), 5);
    const reference = Math.max(ts / s.smallSize, (SCAN_FACTOR * tscan) / s.bigSize);
    ratio = Math.min(ratio, tb / s.bigSize / reference);
  }
  if (ratio > LINEAR_FACTOR) {
    throw new Error(`${what}: ${s.bigSize} bytes cost ${ratio.toFixed(1)}x more per byte than ${s.smallSize} bytes (limit ${LINEAR_FACTOR}x): superlinear`);
  }
  return ratio + sink * 0;
}

/** A decoder may cost this many plain passes per byte and still count as linear whatever the small input did. */
export const SCAN_FACTOR = 50;

/**
 * A binary case at two scales: the seed's head, then its units (after the structural mutations,
 * with the byte mutations applied to them) repeated `k` and `10k` times, then its tail. `k` grows
 * until the small input has at least `minSmall` bytes, so the timer has something to measure.
 */
export function scaledBinary(corpus: readonly Seed[], c: BinaryCase, minSmall = 4096): Scaled<Uint8Array> {
  const src = corpus[c.seed % corpus.length]!;
  // The mutated body: the whole mutation applied to a seed without head and tail.
  const bodySeed: Seed = { name: src.name, head: { bytes: new Uint8Array(0), fields: [] }, units: src.units };
  let body = applyBinary([bodySeed], { ...c, seed: 0 });
  if (body.length === 0) body = serialise(src).subarray(src.head.bytes.length);
  if (body.length === 0) body = Uint8Array.of(0);
  const head = src.head.bytes;
  const build = (k: number) => {
    const out = new Uint8Array(head.length + body.length * k);
    out.set(head, 0);
    for (let i = 0; i < k; i++) out.set(body, head.length + i * body.length);
    return out;
  };
  const k = Math.max(1, Math.ceil(minSmall / body.length));
  const small = build(k);
  const big = build(10 * k);
  return { small, big, smallSize: small.length, bigSize: big.length };
}

/** Text at two scales: a head (e.g. a header row) and a body repeated k and 10k times. */
export function scaledText(head: string, body: string, minSmall = 4096): Scaled<string> {
  const b = body.length === 0 ? '\n' : body.endsWith('\n') ? body : body + '\n';
  const k = Math.max(1, Math.ceil(minSmall / b.length));
  const small = head + b.repeat(k);
  const big = head + b.repeat(10 * k);
  return { small, big, smallSize: small.length, bigSize: big.length };
}
