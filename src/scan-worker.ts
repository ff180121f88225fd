/**
 * One worker of `scan --workers N` (see scan-workers.ts): runs the whole packet path on the
 * packets the main thread hands it (its share of the customers). Hits go back to the main thread,
 * which alone writes the database.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadRunBlacklist, loadRunOnlyLists, openRunBlacklist } from './blacklist/run-list.js';
import { newPacketView } from './capture/packet.js';
import { log as rootLog } from './log.js';
import { Pipeline } from './pipeline.js';
import { openDatabase } from './report/db.js';
import type { FlowHit } from './report/types.js';
import {
  META_CAPLEN, META_FIELDS, META_FILE_OFFSET, META_INDEX, META_LINKTYPE, META_OFFSET, META_ORIGLEN, META_TS,
  rebuildError, type FromWorker, type ToWorker, type WorkerInit,
} from './scan-workers.js';

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
  });
  const take = () => {
    const h = hits;
    hits = [];
    return h;
  };
  const progress = new Int32Array(init.progress);
  const pv = newPacketView();
  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'begin':
          pipeline.beginInput(m.name, m.kind);
          break;
        case 'packets': {
          pv.data = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
          const meta = m.meta;
          for (let i = 0, k = 0; i < m.count; i++, k += META_FIELDS) {
            pv.offset = meta[k + META_OFFSET]!;
            pv.caplen = meta[k + META_CAPLEN]!;
            pv.origLen = meta[k + META_ORIGLEN]!;
            pv.tsMicros = meta[k + META_TS]!;
            pv.linkType = meta[k + META_LINKTYPE]!;
            pv.index = meta[k + META_INDEX]!;
            pv.fileOffset = meta[k + META_FILE_OFFSET]!;
            pipeline.handlePacket(pv);
          }
          pipeline.advanceTo(m.now);
          Atomics.add(progress, init.index, 1);
          if (hits.length > 0) send({ type: 'hits', hits: take() });
          break;
        }
        case 'tick':
          pipeline.advanceTo(m.now);
          if (hits.length > 0) send({ type: 'hits', hits: take() });
          break;
        case 'end-input':
          pipeline.endInput({ ...m.capture, damaged: m.damaged === null ? null : rebuildError(m.damaged) });
          send({ type: 'input-done', hits: take() });
          break;
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
