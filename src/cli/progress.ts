/**
 * A one-line progress meter for long file runs, like `pv`: drawn on stderr only when stderr is a
 * terminal, so pipes and log collectors never see carriage returns.
 */
export interface Progress {
  update(packets: number, bytes: number): void;
  done(): void;
}

export function progressMeter(totalBytes: number, started = Date.now(), stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  let drawn = false;
  return {
    update(packets, bytes) {
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      const mbps = bytes / 1e6 / secs;
      let line = `${packets.toLocaleString('en-US')} packets  ${(bytes / 1e6).toFixed(1)} MB  ${mbps.toFixed(1)} MB/s`;
      if (totalBytes > 0 && bytes > 0) {
        const pct = Math.min(100, (100 * bytes) / totalBytes);
        const eta = ((totalBytes - bytes) / (bytes / secs)) | 0;
        line += `  ${pct.toFixed(0)}%  ETA ${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, '0')}s`;
      }
      stream.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
