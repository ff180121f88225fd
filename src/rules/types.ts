import type { DomainEntry } from '../blacklist/types.js';

/** What kind of crypto activity a source shows. */
export type Category = 'mining' | 'crypto-p2p';

/**
 * Evidence names, as they appear in reports and the database. One per rule that can flag a flow:
 *  - stratum            Bitcoin-style Stratum v1 (mining.subscribe/authorize/submit/notify ...)
 *  - ethproxy           EthProxy (eth_submitLogin, eth_getWork, eth_submitWork, eth_submitHashrate)
 *  - ethereum-stratum   NiceHash EthereumStratum/1.0.0 (mining.subscribe with that protocol)
 *  - cryptonote         CryptoNote / XMRig stratum (login, getjob, submit, keepalived, job)
 *  - http-mining        getwork / getblocktemplate / submitblock / eth_getWork over HTTP,
 *                       X-Mining-Extensions / X-Stratum headers
 *  - bitcoin-p2p        Bitcoin network magic + version message (category crypto-p2p)
 *  - monero-levin       Monero levin protocol (category crypto-p2p)
 *  - blacklist-ip       destination address (and port) in the blacklist
 *  - dns                destination address learned from a DNS answer for a blacklisted domain
 *  - sni                TLS ClientHello server name is a blacklisted domain
 *  - http-host          HTTP Host header is a blacklisted domain
 */
export type Evidence =
  | 'stratum'
  | 'ethproxy'
  | 'ethereum-stratum'
  | 'cryptonote'
  | 'http-mining'
  | 'bitcoin-p2p'
  | 'monero-levin'
  | 'blacklist-ip'
  | 'dns'
  | 'sni'
  | 'http-host';

/** How we know which side is the miner, strongest first. */
export type RoleSource = 'protocol' | 'handshake' | 'port' | 'blacklist' | 'none';

/**
 * Everything the rules learned about one flow. Mutable, owned by the flow, read by the report
 * when the flow ends. Fields stay null/0 until something sets them.
 */
export interface Findings {
  category: Category | null;
  evidence: Evidence[];
  /** Side that is the miner/customer, as far as the protocol says: 0 unknown, 1 side A, 2 side B. */
  minerSide: 0 | 1 | 2;
  /** Blacklist entry (its text, e.g. "203.0.113.0/24:3333" or "pool.example") that matched, if any. */
  blacklistEntry: string | null;
  /** Version of the blacklist that held that entry (null for lists given on the command line only). */
  blacklistVersion: number | null;
  /** Wallet / login as sent by the miner, e.g. "4AdUnd...xyz.rig1" or "bc1q...". */
  login: string | null;
  /** Worker name when the protocol separates it (or split from login). */
  worker: string | null;
  /** Miner software and version (XMRig agent, user agent, mining.subscribe first param). */
  agent: string | null;
  /** Coin ticker in lower case: btc, bch, ltc, eth, etc, xmr, zec, rvn, erg, kas, ... */
  coin: string | null;
  /** Mining algorithm when the protocol names it (rx/0, kawpow, ethash, ...). */
  algo: string | null;
  /** Pool host name when the protocol carries one (HTTP Host, login params, set_host). */
  poolHost: string | null;
  /** Last share difficulty the pool set (mining.set_difficulty, or derived from target). */
  difficulty: number | null;
  /** Last target the pool set, as sent (hex string). */
  target: string | null;
  sharesSubmitted: number;
  sharesAccepted: number;
  sharesRejected: number;
  /** Hash rate the miner reported itself (H/s), e.g. eth_submitHashrate. */
  reportedHashrate: number | null;
}

export function newFindings(): Findings {
  return {
    category: null,
    evidence: [],
    minerSide: 0,
    blacklistEntry: null,
    blacklistVersion: null,
    login: null,
    worker: null,
    agent: null,
    coin: null,
    algo: null,
    poolHost: null,
    difficulty: null,
    target: null,
    sharesSubmitted: 0,
    sharesAccepted: 0,
    sharesRejected: 0,
    reportedHashrate: null,
  };
}

/** Add an evidence name once. */
export function addEvidence(f: Findings, e: Evidence): void {
  if (!f.evidence.includes(e)) f.evidence.push(e);
}

/**
 * Blacklisted names as the payload rules see them: the live blacklist (src/blacklist/live.ts)
 * behind a narrow face, so rules match the names they read (SNI, HTTP Host) where they read them
 * and still know nothing of list storage.
 */
export interface ListedNames {
  /** False while no domain is listed: then no name is worth reading or reassembling. */
  readonly hasNames: boolean;
  /** The entry covering `name` on `port` (the server's port), or null; tsMicros retires expired entries. */
  matchName(name: string, port: number, tsMicros?: number): DomainEntry | null;
}
