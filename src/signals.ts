/**
 * Signals of long-running commands (`scan --interface`, `scan -`, `collect`):
 *
 * - SIGINT, SIGTERM: stop reading, write every pending hit, close the run row, exit as documented
 *   (0 unless something else went wrong). A second SIGINT/SIGTERM while that runs ends the process
 *   at once (the run row then stays 'running' until the next run marks it 'interrupted').
 * - SIGHUP: reload the configuration and the lists (src/reload.ts) without stopping.
 */
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { ReloadRequests } from './reload.js';

/** Resolves on the first SIGINT/SIGTERM; from then on the next one has its default effect. */
export function stopOnSignal(log?: Logger): Promise<void> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      log?.info({ signal }, `${signal}: stopping, writing what is pending`);
      resolve();
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/**
 * SIGHUP as reload requests, listened to from now on: a SIGHUP that comes before the run is
 * ready to reload is kept and served when it is (never the default effect, which ends the
 * process). `readConfig` reads the configuration file again.
 */
export function reloadOnHangup(readConfig: () => Config): ReloadRequests {
  let early = false;
  let listener: (() => void) | null = null;
  const onHup = () => {
    if (listener !== null) listener();
    else early = true;
  };
  process.on('SIGHUP', onHup);
  return {
    readConfig,
    listen(fn) {
      listener = fn;
      if (early) {
        early = false;
        queueMicrotask(fn);
      }
      return () => {
        listener = null;
        process.off('SIGHUP', onHup);
      };
    },
  };
}
