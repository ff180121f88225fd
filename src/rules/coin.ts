/**
 * Which coin a miner mines, guessed from what the protocol carries: the algorithm, the pool host
 * name, the wallet format, the protocol family. Pure functions; inferCoin says which hint wins.
 */

const B58 = '[1-9A-HJ-NP-Za-km-z]';
/** bech32 data characters (no 1, b, i, o). */
const B32 = '[02-9ac-hj-np-z]';

/** Wallet formats, most specific first. ETH-style 0x addresses are also ETC's: the host/algo decides. */
const WALLETS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^0x[0-9a-fA-F]{40}$/, 'eth'],
  [new RegExp(`^[48]${B58}{94}$`), 'xmr'], // standard and subaddress, 95 characters
  [new RegExp(`^4${B58}{105}$`), 'xmr'], // integrated address, 106 characters
  [new RegExp(`^W[oW]${B58}{95}$`), 'wow'], // Wownero, 97 characters
  [new RegExp(`^bc1${B32}{11,71}$`, 'i'), 'btc'],
  [new RegExp(`^[13]${B58}{25,34}$`), 'btc'],
  [new RegExp(`^ltc1${B32}{11,71}$`, 'i'), 'ltc'],
  [new RegExp(`^[LM]${B58}{26,33}$`), 'ltc'],
  [new RegExp(`^D${B58}{33}$`), 'doge'],
  [new RegExp(`^(bitcoincash:)?[qp]${B32}{41}$`, 'i'), 'bch'],
  [new RegExp(`^t[13]${B58}{33}$`), 'zec'],
  [new RegExp(`^zs1${B32}{75}$`), 'zec'],
  [new RegExp(`^R${B58}{33}$`), 'rvn'],
  [new RegExp(`^X${B58}{33}$`), 'dash'],
  [new RegExp(`^9${B58}{50}$`), 'erg'],
  [new RegExp(`^kaspa:${B32}{61,63}$`), 'kas'],
];

/** Coin of a bare wallet address, or null if it is not one we know. */
export function coinFromWallet(addr: string): string | null {
  for (const [re, coin] of WALLETS) if (re.test(addr)) return coin;
  return null;
}

export interface LoginParts {
  /** The wallet address at the start of the login, when recognised. */
  wallet: string | null;
  coin: string | null;
  worker: string | null;
}

/** Leading wallet-looking run: optional address scheme, then letters and digits. */
const WALLET_RUN = /^(?:bitcoincash:|kaspa:)?[0-9A-Za-z]+/;
/** Worker after the last '.' or '/', optionally followed by a "+difficulty" suffix. */
const WORKER_TAIL = /[./]([^./+]+)(?:\+[0-9]*)?$/;

/**
 * Split a login such as "wallet.worker", "wallet+50000", "wallet/worker", "wallet.worker+50000".
 * With `userDotWorker` (Stratum's "account.worker" convention) an unrecognised login is split at
 * its first '.'; e-mail logins (MinerGate) are never split.
 */
export function splitLogin(login: string, userDotWorker = false): LoginParts {
  const m = WALLET_RUN.exec(login);
  if (m !== null) {
    const coin = coinFromWallet(m[0]);
    if (coin !== null) {
      const rest = login.slice(m[0].length);
      const w = WORKER_TAIL.exec(rest);
      return { wallet: m[0], coin, worker: w !== null && w[1]!.length > 0 ? w[1]! : null };
    }
  }
  if (userDotWorker && !login.includes('@')) {
    const dot = login.indexOf('.');
    if (dot > 0 && dot < login.length - 1) return { wallet: null, coin: null, worker: login.slice(dot + 1) };
  }
  return { wallet: null, coin: null, worker: null };
}

const ALGOS: ReadonlyMap<string, string> = new Map([
  ['rx/0', 'xmr'],
  ['rx', 'xmr'],
  ['randomx', 'xmr'],
  ['randomxmonero', 'xmr'],
  ['rx/wow', 'wow'],
  ['randomwow', 'wow'],
  ['rx/arq', 'arq'],
  ['rx/keva', 'keva'],
  ['rx/sfx', 'sfx'],
  ['cn/half', 'msr'],
  ['cn/ccx', 'ccx'],
  ['cn/upx2', 'upx'],
  ['cn-heavy/xhv', 'xhv'],
  ['argon2/chukwa', 'trtl'],
  ['argon2/chukwav2', 'trtl'],
  ['astrobwt', 'dero'],
  ['ghostrider', 'rtm'],
  ['kawpow', 'rvn'],
  ['ethash', 'eth'],
  ['daggerhashimoto', 'eth'],
  ['etchash', 'etc'],
  ['autolykos', 'erg'],
  ['autolykos2', 'erg'],
  ['kheavyhash', 'kas'],
  ['equihash', 'zec'],
  ['equihash200_9', 'zec'],
  ['sha256d', 'btc'],
  ['sha256', 'btc'],
  ['sha-256', 'btc'],
  ['scrypt', 'ltc'],
  ['x11', 'dash'],
  ['firopow', 'firo'],
  ['octopus', 'cfx'],
  ['karlsenhash', 'kls'],
]);

/** Coin mined with an algorithm name as XMRig, pools and NiceHash spell it. */
export function coinFromAlgo(algo: string): string | null {
  const a = algo.trim().toLowerCase();
  const c = ALGOS.get(a);
  if (c !== undefined) return c;
  // The original CryptoNight variants (cn/0, cn/1, cn/2, cn/r, cryptonight) were Monero's.
  if (a === 'cn' || a === 'cryptonight' || /^(cn|cryptonight)\/(0|1|2|r|fast)$/.test(a)) return 'xmr';
  return null;
}

/** Host labels that name a coin outright. */
const HOST_LABELS: ReadonlyMap<string, string> = new Map([
  ['btc', 'btc'],
  ['bitcoin', 'btc'],
  ['bch', 'bch'],
  ['bitcoincash', 'bch'],
  ['ltc', 'ltc'],
  ['litecoin', 'ltc'],
  ['doge', 'doge'],
  ['dogecoin', 'doge'],
  ['eth', 'eth'],
  ['ethereum', 'eth'],
  ['etc', 'etc'],
  ['xmr', 'xmr'],
  ['monero', 'xmr'],
  ['zec', 'zec'],
  ['zcash', 'zec'],
  ['rvn', 'rvn'],
  ['raven', 'rvn'],
  ['ravencoin', 'rvn'],
  ['erg', 'erg'],
  ['ergo', 'erg'],
  ['kas', 'kas'],
  ['kaspa', 'kas'],
  ['dash', 'dash'],
  ['wow', 'wow'],
  ['wownero', 'wow'],
  ['firo', 'firo'],
  ['rtm', 'rtm'],
  ['xhv', 'xhv'],
]);

/** Coin names found inside a longer label ("randomxmonero", "litecoinpool"); longest first. */
const HOST_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['bitcoincash', 'bch'],
  ['ravencoin', 'rvn'],
  ['ethereum', 'eth'],
  ['litecoin', 'ltc'],
  ['dogecoin', 'doge'],
  ['wownero', 'wow'],
  ['bitcoin', 'btc'],
  ['monero', 'xmr'],
  ['zcash', 'zec'],
  ['kaspa', 'kas'],
];

/** Tickers that pool names start or end with ("supportxmr", "ethermine", "btcguild"). */
const HOST_AFFIX = ['xmr', 'btc', 'ltc', 'eth', 'rvn', 'zec', 'doge'];

/** Coin named by a pool host name such as "eth-eu1.nanopool.org" or "pool.supportxmr.com". */
export function coinFromHost(host: string): string | null {
  const labels = host.toLowerCase().split(/[.\-_]/);
  // The top-level domain never names a coin; drop it when there is more than one label.
  const n = labels.length > 1 ? labels.length - 1 : labels.length;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    // Algorithm names as labels ("kawpow.pool.example"); short ones like "cn" or "rx" are too
    // often country codes or abbreviations to trust.
    const c = HOST_LABELS.get(l) ?? (l.length >= 5 ? coinFromAlgo(l) : null);
    if (c !== null) return c;
  }
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    for (const [name, coin] of HOST_NAMES) if (l.includes(name)) return coin;
    for (const t of HOST_AFFIX) if (l.length > t.length && (l.startsWith(t) || l.endsWith(t))) return t;
  }
  return null;
}

export interface CoinHints {
  algo?: string | null;
  host?: string | null;
  login?: string | null;
  /** Coin of the protocol family (eth for EthProxy, xmr for CryptoNote). */
  family?: string | null;
  /** The family beats the wallet (EthProxy/EthereumStratum can be paid out to a BTC address). */
  familyStrong?: boolean;
}

/**
 * Best guess, strongest hint first: the algorithm says what is hashed; the pool host usually names
 * the coin; an Ethereum-family protocol says eth(ash) even when NiceHash pays out in BTC; then the
 * wallet; a weak family default (CryptoNote → xmr) last.
 */
export function inferCoin(h: CoinHints): string | null {
  const fromAlgo = h.algo ? coinFromAlgo(h.algo) : null;
  if (fromAlgo !== null) return fromAlgo;
  const fromHost = h.host ? coinFromHost(h.host) : null;
  if (fromHost !== null) return fromHost;
  if (h.family && h.familyStrong) return h.family;
  const fromWallet = h.login ? splitLogin(h.login).coin : null;
  if (fromWallet !== null) return fromWallet;
  return h.family ?? null;
}
