import type { Flow } from '../flow/types.js';
import type { RoleSource } from './types.js';

/**
 * Ports pools commonly listen on (Stratum, CryptoNote, EthProxy). Web and mail ports are left out
 * on purpose: a port there says nothing about who is the pool.
 */
export const DEFAULT_POOL_PORTS: ReadonlySet<number> = new Set([
  1800, 3032, 3256, 3333, 3334, 3335, 3336, 3357, 4444, 4445, 5555, 5556, 5588, 6666, 7777, 7778,
  8008, 8888, 8899, 9200, 9999, 14433, 14444, 45700,
]);

/**
 * Which side is the miner, and how we know, most trusted first: the protocol (who sent
 * subscribe/login/submit), a blacklisted address (the pool), who sent the SYN, a pool port, the
 * higher (ephemeral) port. Side A is only the last resort.
 */
export function decideMinerSide(flow: Flow, poolPorts: ReadonlySet<number>): { side: 1 | 2; source: RoleSource } {
  const f = flow.findings;
  if (f !== null && f.minerSide !== 0) {
    const fromProtocol = f.evidence.some((e) => e !== 'blacklist-ip');
    return { side: f.minerSide, source: fromProtocol ? 'protocol' : 'blacklist' };
  }
  if (flow.blacklistSide !== 0) return { side: flow.blacklistSide === 1 ? 2 : 1, source: 'blacklist' };
  if (flow.synFrom !== 0) return { side: flow.synFrom, source: 'handshake' };
  const aPool = poolPorts.has(flow.aPort);
  const bPool = poolPorts.has(flow.bPort);
  if (aPool !== bPool) return { side: aPool ? 2 : 1, source: 'port' };
  if (flow.aPort !== flow.bPort) return { side: flow.aPort > flow.bPort ? 1 : 2, source: 'port' };
  return { side: 1, source: 'none' };
}
