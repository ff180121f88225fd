/** The report stage's public surface: open the database, write hits, query and render. */
export { openDatabase, SCHEMA_VERSION, type Database, type OpenOptions } from './db.js';
export { startRun, finishRun, HitSink, type RunStart, type RunEnd } from './sink.js';
export { querySources, microsToIso, type SourceRecord, type PoolRef, type QueryOptions } from './query.js';
export { formatSources, OUTPUT_FORMATS, type OutputFormat } from './format.js';
export type { FlowHit } from './types.js';
