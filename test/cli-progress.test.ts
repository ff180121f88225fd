import { describe, expect, it } from 'vitest';
import { progressMeter } from '../src/cli/progress.js';

/** A stand-in for process.stderr that records what is written. */
function fakeStderr(isTTY: boolean) {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('progress meter', () => {
  it('draws packets, rate since the run started, percentage and ETA on a terminal, then clears', () => {
    const { stream, written } = fakeStderr(true);
    // The run started 2 s ago and has read 100 MB of 400 MB: 50 MB/s, 300 MB left, 6 s to go.
    const meter = progressMeter(400e6, Date.now() - 2000, stream);
    meter.update(1_234_567, 100e6);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\r1,234,567 packets {2}100\.0 MB {2}(49|50)\.\d MB\/s {2}25% {2}ETA 0m0[56]s\x1b\[K$/);
    meter.done();
    expect(written[1]).toBe('\r\x1b[K');
  });

  it('writes nothing when stderr is not a terminal', () => {
    const { stream, written } = fakeStderr(false);
    const meter = progressMeter(400e6, Date.now() - 2000, stream);
    meter.update(10, 1e6);
    meter.done();
    expect(written).toEqual([]);
  });

  it('without a known total (standard input) shows no percentage or ETA', () => {
    const { stream, written } = fakeStderr(true);
    progressMeter(0, Date.now() - 1000, stream).update(5, 2e6);
    expect(written[0]).not.toMatch(/%|ETA/);
  });
});
