import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { PoolwatchError } from './errors.js';
import { DEFAULT_FLOW_OPTIONS, type FlowTableOptions } from './flow/table.js';

export interface Config {
  /** Files the settings came from (for messages). */
  source: string;
  blacklistFiles: string[];
  allowFiles: string[];
  poolPorts: number[];
  flows: FlowTableOptions;
  batchSize: number;
}

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../config/poolwatch.yaml', import.meta.url));

/** Load and check the YAML configuration; every problem names the file and the key. */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PoolwatchError('PW_ERR_IO', `cannot read configuration: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: path });
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text) ?? {};
  } catch (e) {
    throw new PoolwatchError('PW_ERR_USAGE', `configuration is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { file: path });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PoolwatchError('PW_ERR_USAGE', 'configuration must be a mapping', { file: path });
  }
  const base = dirname(path);
  const d = doc as Record<string, any>;
  const bad = (key: string, want: string): never => {
    throw new PoolwatchError('PW_ERR_USAGE', `configuration key ${key} must be ${want}`, { file: path });
  };
  const paths = (v: unknown, key: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(key, 'a list of file names');
    return (v as string[]).map((p) => resolve(base, p));
  };
  const num = (v: unknown, key: string, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) bad(key, `a number >= ${min}`);
    return v as number;
  };
  const ports = d.poolPorts ?? [];
  if (!Array.isArray(ports) || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) bad('poolPorts', 'a list of ports 1-65535');
  const flows = d.flows ?? {};
  return {
    source: path,
    blacklistFiles: paths(d.blacklist?.files, 'blacklist.files'),
    allowFiles: paths(d.blacklist?.allow, 'blacklist.allow'),
    poolPorts: ports as number[],
    flows: {
      idleTimeoutSec: num(flows.idleTimeout, 'flows.idleTimeout', DEFAULT_FLOW_OPTIONS.idleTimeoutSec, 1),
      activeTimeoutSec: num(flows.activeTimeout, 'flows.activeTimeout', DEFAULT_FLOW_OPTIONS.activeTimeoutSec, 1),
      maxFlows: num(flows.maxFlows, 'flows.maxFlows', DEFAULT_FLOW_OPTIONS.maxFlows, 1),
    },
    batchSize: num(d.report?.batchSize, 'report.batchSize', 500, 1),
  };
}
