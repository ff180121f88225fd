/**
 * One worker of `scan --workers N` (see scan-workers.ts): reads every chunk of the capture with its
 * own reader, keeps its share of the packets (flow/shard.ts) and runs the whole packet path on
 * them. Hits go back to the main thread, which alone writes the database.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadRunBlacklist, loadRunOnlyLists, openRunBlacklist } from './blacklist/run-list.js';
import { CaptureReader } from './capture/reader.js';
import { log as rootLog } from './log.js';
import { Pipeline } from './pipeline.js';
import { openDatabase } from './report/db.js';
import type { FlowHit } from './report/types.js';
import { DONE, PACKETS, type FromWorker, type ToWorker, type WorkerInit } from './scan-workers.js';

const init = workerData as WorkerInit;
const port = parentPort!;
// The main thread already said what the lists held and what was wrong with them: only this
// worker's own trouble is logged here.
const log = rootLog.child({ worker: init.index });
const quiet = rootLog.child({ worker: init.index }, { level: 'error' });

const send = (m: FromWorker) => port.postMessage(m);

async function start(): Promise<void> {
  const config = init.config;
  // A database file is shared (read only here: the main thread writes); ':memory:' cannot be,
  // so the worker sets up the same list the main thread did, from the same local files.
  const memory = init.dbPath === ':memory:';
  const db = openDatabase(init.dbPath, memory ? {} : { readonly: true });
  const runOnly = loadRunOnlyLists(init.blacklistFiles, config, quiet);
  const list = memory ? await openRunBlacklist(db, config, runOnly, quiet) : loadRunBlacklist(db, runOnly);
  let hits: FlowHit[] = [];
  const pipeline = new Pipeline({
    blacklist: list.live,
    poolPorts: new Set(config.poolPorts),
    flows: config.flows,
    onHit: (h) => hits.push(h),
    log,
    shard: { index: init.index, count: init.count },
  });
  const take = () => {
    const h = hits;
    hits = [];
    return h;
  };
  let reader: CaptureReader | null = null;
  let damageSaid = false;
  const progress = new Int32Array(init.progress);
  const at = 2 * init.index;
  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'begin':
          pipeline.beginInput(m.name, m.kind);
          reader = new CaptureReader(m.name, pipeline.handlePacket);
          damageSaid = false;
          break;
        case 'chunk':
          reader!.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
          Atomics.store(progress, at + PACKETS, pipeline.stats.packets);
          Atomics.add(progress, at + DONE, 1);
          if (hits.length > 0 || (reader!.stats.damaged !== null && !damageSaid)) {
            damageSaid = reader!.stats.damaged !== null;
            send({ type: 'hits', damaged: damageSaid, hits: take() });
          }
          break;
        case 'end-input': {
          const stats = reader!.end();
          pipeline.endInput(stats);
          const d = stats.damaged;
          send({
            type: 'input-done',
            capture: { ...stats, damaged: null },
            damaged: d === null ? null : { code: d.code, message: d.message, context: d.context },
            hits: take(),
          });
          reader = null;
          break;
        }
        case 'reload':
          // A newer stored version or --blacklist files read again (a refresh, SIGHUP in the main
          // thread): the same load and swap as there.
          if (!memory) list.live.swap(loadRunBlacklist(db, loadRunOnlyLists(init.blacklistFiles, config, quiet)).live.snapshot);
          break;
        case 'finish':
          send({ type: 'finished', stats: pipeline.finish(), hits: take() });
          db.close();
          port.close();
          break;
      }
    } catch (e) {
      send({ type: 'failed', message: (e as Error).message, code: (e as { code?: string }).code });
    }
  });
  send({ type: 'ready' });
}

start().catch((e: unknown) => send({ type: 'failed', message: (e as Error).message, code: (e as { code?: string }).code }));
