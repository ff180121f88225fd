import { describe, expect, it } from 'vitest';
import { coinFromAlgo, coinFromHost, coinFromWallet, inferCoin, splitLogin } from '../src/rules/coin.js';
import { btcTargetDifficulty, cryptonoteDifficulty, ethashDifficulty, getworkDifficulty } from '../src/rules/difficulty.js';

const XMR = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const XMR_SUB = '8' + XMR.slice(1);
const XMR_INTEGRATED = XMR + 'Abcdefghijk';
const ETH = '0xea674fdde714fd979de3edf0f56aa9716b898ec8';

describe('coinFromWallet', () => {
  it.each([
    ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'btc'],
    ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'btc'],
    ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', 'btc'],
    ['LQ3B36Yv2rBTxdgAdYpU2UcEZsaNwXeATk', 'ltc'],
    ['MQMcJhpWHYVeQArcZR3sBgyPZxxRtnH441', 'ltc'],
    ['ltc1qg82tr8pmu0fy5ssw8ja7l4lwme5drmtm3ah5lm', 'ltc'],
    ['DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L', 'doge'],
    ['bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', 'bch'],
    ['qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', 'bch'],
    [XMR, 'xmr'],
    [XMR_SUB, 'xmr'],
    [XMR_INTEGRATED, 'xmr'],
    [ETH, 'eth'],
    ['t1KzZ5n2TPEGYXTZ3WYGL1AYEumEQaRoHaL', 'zec'],
    ['RXtqqjcXQcz6JMj7HqgLVCGz8ggS4phc4x', 'rvn'],
    ['XpESxaUmonkq8RaLLp46Brx2K39ggQe226', 'dash'],
    ['9fRAWhdxEsTcdb8PhGNrZfwqa65zfkuYHAMmkQLcic1gdLSV5vA', 'erg'],
    ['kaspa:qqkqkzjvr7zwxxmjxjkmxxdwju9kjs6e9u82uh59z07vgaks6gg62v8707g73', 'kas'],
  ])('%s → %s', (addr, coin) => {
    expect(coinFromWallet(addr)).toBe(coin);
  });

  it.each([
    'slush',
    'alice@example.com',
    '0xea674fdde714fd979de3edf0f56aa9716b898ec', // 39 hex digits
    XMR.slice(0, 94),
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0', // '0' is not base58
    'x',
    '',
  ])('not a wallet: %s', (addr) => {
    expect(coinFromWallet(addr)).toBeNull();
  });
});

describe('splitLogin', () => {
  it('wallet.worker keeps the wallet and takes the worker after the last dot', () => {
    expect(splitLogin(`${XMR}.rig1`)).toEqual({ wallet: XMR, coin: 'xmr', worker: 'rig1' });
    expect(splitLogin(`${ETH}.farm.rig2`)).toEqual({ wallet: ETH, coin: 'eth', worker: 'rig2' });
  });
  it('wallet+diff, wallet/worker and wallet.worker+diff', () => {
    expect(splitLogin(`${XMR}+50000`)).toEqual({ wallet: XMR, coin: 'xmr', worker: null });
    expect(splitLogin(`${XMR}/rig3`)).toEqual({ wallet: XMR, coin: 'xmr', worker: 'rig3' });
    expect(splitLogin(`${XMR}.rig4+50000`)).toEqual({ wallet: XMR, coin: 'xmr', worker: 'rig4' });
    expect(splitLogin(`${XMR}+50000.rig5`)).toEqual({ wallet: XMR, coin: 'xmr', worker: 'rig5' });
  });
  it('address schemes with a colon', () => {
    expect(splitLogin('bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a.w1')).toEqual({
      wallet: 'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a',
      coin: 'bch',
      worker: 'w1',
    });
  });
  it('user.worker is split only under the Stratum convention, e-mail logins never', () => {
    expect(splitLogin('slush.miner1')).toEqual({ wallet: null, coin: null, worker: null });
    expect(splitLogin('slush.miner1', true)).toEqual({ wallet: null, coin: null, worker: 'miner1' });
    expect(splitLogin('alice@example.com', true)).toEqual({ wallet: null, coin: null, worker: null });
    expect(splitLogin('slush', true)).toEqual({ wallet: null, coin: null, worker: null });
  });
});

describe('coinFromAlgo', () => {
  it.each([
    ['rx/0', 'xmr'],
    ['RandomX', 'xmr'],
    ['cn/r', 'xmr'],
    ['cn/2', 'xmr'],
    ['cryptonight', 'xmr'],
    ['rx/wow', 'wow'],
    ['cn-heavy/xhv', 'xhv'],
    ['kawpow', 'rvn'],
    ['ethash', 'eth'],
    ['etchash', 'etc'],
    ['autolykos2', 'erg'],
    ['kheavyhash', 'kas'],
    ['equihash', 'zec'],
    ['sha256d', 'btc'],
    ['scrypt', 'ltc'],
    ['x11', 'dash'],
    ['ghostrider', 'rtm'],
  ])('%s → %s', (algo, coin) => {
    expect(coinFromAlgo(algo)).toBe(coin);
  });
  it('unknown algorithms give null', () => {
    expect(coinFromAlgo('cn-heavy/0')).toBeNull();
    expect(coinFromAlgo('sha3')).toBeNull();
  });
});

describe('coinFromHost', () => {
  it.each([
    ['xmr.pool.minergate.com', 'xmr'],
    ['eth-eu1.nanopool.org', 'eth'],
    ['etc.2miners.com', 'etc'],
    ['rvn.2miners.com', 'rvn'],
    ['pool.supportxmr.com', 'xmr'],
    ['us1.ethermine.org', 'eth'],
    ['randomxmonero.auto.nicehash.com', 'xmr'],
    ['kawpow.auto.nicehash.com', 'rvn'],
    ['stratum.kaspa-pool.org', 'kas'],
    ['ltc.f2pool.com', 'ltc'],
  ])('%s → %s', (host, coin) => {
    expect(coinFromHost(host)).toBe(coin);
  });
  it.each(['stratum.slushpool.com', 'mint.bitminter.com', 'pool.example.cn', '203.0.113.9', 'cn.example.com'])(
    'no coin in %s',
    (host) => {
      expect(coinFromHost(host)).toBeNull();
    },
  );
});

describe('inferCoin', () => {
  it('algorithm beats everything', () => {
    expect(inferCoin({ algo: 'etchash', host: 'eth.pool.example', login: ETH, family: 'eth', familyStrong: true })).toBe('etc');
  });
  it('host beats the wallet: a 0x wallet on an ETC pool is ETC', () => {
    expect(inferCoin({ host: 'etc.2miners.com', login: `${ETH}.rig1`, family: 'eth', familyStrong: true })).toBe('etc');
  });
  it('an Ethereum-family protocol paid to a BTC address (NiceHash) mines eth', () => {
    expect(inferCoin({ login: '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy.w', family: 'eth', familyStrong: true })).toBe('eth');
  });
  it('wallet beats a weak family default', () => {
    expect(inferCoin({ login: 'WoY4ThbQqXBEBVKKqEXM8RTXnTKy1yS5ZBMkj1aXMD9ZCL9WfHAKuNbKWDaSskE7pE1kCsJPEpKAR2TLNNtmnM2E2HHoNxXko', family: 'xmr' })).toBe('wow');
    expect(inferCoin({ login: 'alice@example.com', family: 'xmr' })).toBe('xmr');
  });
  it('nothing known → null', () => {
    expect(inferCoin({ login: 'slush.miner1' })).toBeNull();
    expect(inferCoin({})).toBeNull();
  });
});

describe('difficulty', () => {
  it('CryptoNote 4-byte target: 0xFFFFFFFF / target32 (little-endian)', () => {
    expect(cryptonoteDifficulty('b88d0600')).toBe(0xffffffff / 0x00068db8);
    expect(cryptonoteDifficulty('b88d0600')).toBeCloseTo(10000.017, 3);
    expect(cryptonoteDifficulty('e4a63d00')).toBe(0xffffffff / 0x003da6e4);
    expect(cryptonoteDifficulty('00000000')).toBeNull();
    expect(cryptonoteDifficulty('zz')).toBeNull();
  });
  it('CryptoNote 8-byte target: 2^64 / target64', () => {
    // 2^64 / 2^44 = 2^20
    expect(cryptonoteDifficulty('0000000000100000')).toBe(1048576);
  });
  it('ethash boundary', () => {
    expect(ethashDifficulty('0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba')).toBe(4_000_000_000);
  });
  it('256-bit targets in pool difficulty', () => {
    expect(btcTargetDifficulty('00000000ffff0000000000000000000000000000000000000000000000000000')).toBeCloseTo(1, 3);
    expect(getworkDifficulty('ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000')).toBe(1);
  });
});
