/**
 * How many cases each fuzz property runs, from which seed, and how a failure is replayed.
 *
 *   FUZZ_RUNS   cases per property (default 1000: the short run inside `npm test`;
 *               `npm run fuzz` sets 100000)
 *   FUZZ_SEED   base seed (default fixed, so every run of the suite tries the same cases). Each
 *               property derives its own seed from it and its name, so properties do not replay
 *               each other's cases and adding one does not change the others.
 *   FUZZ_PATH   with FUZZ_SEED and `-t "<property>"`: replay exactly the failing (shrunk) case
 *               that a failure message printed, instead of running the property again.
 *   FUZZ_REPORT a file to which each property appends one JSON line: name, cases, seconds.
 *
 * A failing property's message ends with the command that replays it.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, it } from 'vitest';

const env = process.env;

/** Cases per property in this run. */
export const RUNS = positive(env.FUZZ_RUNS, 1000);
/** Base seed of this run. */
export const BASE_SEED = env.FUZZ_SEED !== undefined && env.FUZZ_SEED !== '' ? Number(env.FUZZ_SEED) | 0 : 0x5eed_2024;
/** True for the long run (`npm run fuzz`): properties log their figures. */
export const LONG = RUNS > 1000;

function positive(v: string | undefined, dflt: number): number {
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n < 1) throw new Error(`FUZZ_RUNS must be a positive number, not ${v}`);
  return Math.floor(n);
}

/** FNV-1a of the property name: its seed is the base seed mixed with it. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

export function seedFor(name: string): number {
  return (BASE_SEED ^ nameHash(name)) | 0;
}

export interface FuzzOptions {
  /** Share of RUNS this property runs (timing properties run far fewer cases). Default 1. */
  scale?: number;
  /** Least cases whatever the scale. Default 1. */
  min?: number;
  /** vitest timeout for this property (ms); default: the config's. */
  timeout?: number;
}

/** Cases a property with this scale runs. */
export function runsFor(o: FuzzOptions = {}): number {
  return Math.max(o.min ?? 1, Math.round(RUNS * (o.scale ?? 1)));
}

/**
 * One fuzz property as one vitest test: fast-check generates `numRuns` cases from the property's
 * seed and, on a failure, shrinks it and reports the seed and path; the message gets the command
 * that replays just that case.
 */
export function fuzz<T>(name: string, arb: fc.Arbitrary<T>, check: (value: T) => void, o: FuzzOptions = {}): void {
  it(
    name,
    () => {
      const numRuns = runsFor(o);
      const seed = seedFor(name);
      const path = env.FUZZ_PATH !== undefined && env.FUZZ_PATH !== '' ? env.FUZZ_PATH : undefined;
      const t0 = performance.now();
      const details = fc.check(fc.property(arb, check), { numRuns, seed, path, endOnFailure: path !== undefined });
      const seconds = (performance.now() - t0) / 1000;
      report(name, details.numRuns, seconds);
      if (details.failed) {
        const file = expect.getState().testPath ?? '<file>';
        const replay = `FUZZ_SEED=${BASE_SEED} FUZZ_PATH=${details.counterexamplePath} npx vitest run ${file.replace(/^.*\/test\//, 'test/')} -t ${JSON.stringify(name)}`;
        const err = details.errorInstance;
        const why = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
        throw new Error(
          `fuzz property "${name}" failed after ${details.numRuns} cases (seed ${details.seed}, path ${details.counterexamplePath}, shrunk ${details.numShrinks} times)\n` +
            `counterexample: ${fc.stringify(details.counterexample)}\n${why}\nreplay: ${replay}`,
        );
      }
    },
    o.timeout,
  );
}

/** One JSON line per property to FUZZ_REPORT, and one log line in the long run. */
export function report(name: string, cases: number, seconds: number): void {
  if (env.FUZZ_REPORT) appendFileSync(env.FUZZ_REPORT, JSON.stringify({ name, cases, seconds: Math.round(seconds * 100) / 100 }) + '\n');
  if (LONG) console.log(`[fuzz] ${name}: ${cases} cases in ${seconds.toFixed(1)} s`);
}

/** A cheap check for hot loops (vitest's expect costs microseconds a call). */
export function check(ok: boolean, what: string | (() => string)): asserts ok {
  if (!ok) throw new Error(typeof what === 'string' ? what : what());
}
