/**
 * Mining and non-mining sessions as real software speaks them (message shapes taken from
 * cgminer, XMRig, Claymore/ethminer and pool documentation). Shared by the fixtures and the
 * end-to-end tests, so that both describe the same traffic.
 */
import { createHash } from 'node:crypto';
import { line, type Say } from './conversation.js';

export const BTC_WALLET = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
export const XMR_WALLET = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
export const ETH_WALLET = '0x52bc44d5378309ee2abf1539bf71de1b7d7be3b5';

/** Bitcoin-style Stratum v1: subscribe, authorize, difficulty, notify, one accepted and one rejected share. */
export const bitcoinStratum: Say[] = [
  { from: 'c', text: line({ id: 1, method: 'mining.subscribe', params: ['cgminer/4.10.0'] }) },
  {
    from: 's',
    text: line({
      id: 1,
      result: [[['mining.set_difficulty', 'b4b6693b72a50c7116db18d6497cac52'], ['mining.notify', 'ae6812eb4cd7735a302a8a9dd95cf71f']], '08000002', 4],
      error: null,
    }),
  },
  { from: 'c', text: line({ id: 2, method: 'mining.authorize', params: [`${BTC_WALLET}.rig1`, 'x'] }) },
  { from: 's', text: line({ id: 2, result: true, error: null }) },
  {
    from: 's',
    text:
      line({ id: null, method: 'mining.set_difficulty', params: [8192] }) +
      line({
        id: null,
        method: 'mining.notify',
        params: [
          'bf',
          '4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000',
          '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008',
          '072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000',
          [],
          '00000002',
          '1c2ac4af',
          '504e86b9',
          false,
        ],
      }),
  },
  { from: 'c', text: line({ id: 4, method: 'mining.submit', params: [`${BTC_WALLET}.rig1`, 'bf', '00000001', '504e86ed', 'b2957c02'] }) },
  { from: 's', text: line({ id: 4, result: true, error: null }) },
  { from: 'c', text: line({ id: 5, method: 'mining.submit', params: [`${BTC_WALLET}.rig1`, 'bf', '00000002', '504e86ee', '1a2b3c4d'] }) },
  { from: 's', text: line({ id: 5, result: null, error: [23, 'Low difficulty share', null] }) },
];

/** XMRig speaking CryptoNote stratum to a Monero pool. */
export const xmrigSession: Say[] = [
  {
    from: 'c',
    text: line({
      id: 1,
      jsonrpc: '2.0',
      method: 'login',
      params: { login: XMR_WALLET, pass: 'x', agent: 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0', algo: ['rx/0', 'cn/r'], rigid: 'rig7' },
    }),
  },
  {
    from: 's',
    text: line({
      id: 1,
      jsonrpc: '2.0',
      error: null,
      result: {
        id: '3e7a9c12',
        job: {
          blob: '1010c6d6a3a406f5d3f0b4a6c2b0a9f4e8c3a2d1b0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c200000000a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809101',
          job_id: 'Xz1',
          target: 'b88d0600',
          algo: 'rx/0',
          height: 3012345,
          seed_hash: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
        },
        extensions: ['algo', 'nicehash', 'connect', 'tls', 'keepalive'],
        status: 'OK',
      },
    }),
  },
  {
    from: 'c',
    text: line({
      id: 2,
      jsonrpc: '2.0',
      method: 'submit',
      params: { id: '3e7a9c12', job_id: 'Xz1', nonce: '4e6a0100', result: 'e1f2a3b4c5d6e7f80910a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e0400' },
    }),
  },
  { from: 's', text: line({ id: 2, jsonrpc: '2.0', error: null, result: { status: 'OK' } }) },
  {
    from: 's',
    text: line({
      jsonrpc: '2.0',
      method: 'job',
      params: {
        blob: '1010c6d6a3a406f5d3f0b4a6c2b0a9f4e8c3a2d1b0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c200000000b2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809101',
        job_id: 'Xz2',
        target: 'b88d0600',
        algo: 'rx/0',
        height: 3012346,
      },
    }),
  },
  { from: 'c', text: line({ id: 3, jsonrpc: '2.0', method: 'keepalived', params: { id: '3e7a9c12' } }) },
];

/** Claymore-style EthProxy. */
export const ethProxySession: Say[] = [
  { from: 'c', text: line({ worker: 'eth1.0', jsonrpc: '2.0', params: [ETH_WALLET, 'x'], id: 2, method: 'eth_submitLogin' }) },
  { from: 's', text: line({ id: 2, jsonrpc: '2.0', result: true }) },
  { from: 'c', text: line({ worker: '', jsonrpc: '2.0', params: [], id: 3, method: 'eth_getWork' }) },
  {
    from: 's',
    text: line({
      id: 3,
      jsonrpc: '2.0',
      result: [
        '0x645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc',
        '0xabad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c',
        '0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba',
      ],
    }),
  },
  { from: 'c', text: line({ id: 6, jsonrpc: '2.0', method: 'eth_submitHashrate', params: ['0x1dcd6500', '0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c'], worker: 'eth1.0' }) },
  {
    from: 'c',
    text: line({
      id: 4,
      jsonrpc: '2.0',
      method: 'eth_submitWork',
      params: ['0x1060cf5c6e0e1d3f', '0x645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc', '0xd1fe5700000000000000000000000000d1fe5700000000000000000000000000'],
      worker: 'eth1.0',
    }),
  },
  { from: 's', text: line({ id: 4, jsonrpc: '2.0', result: true }) },
];

/** NiceHash EthereumStratum/1.0.0. */
export const niceHashSession: Say[] = [
  { from: 'c', text: line({ id: 1, method: 'mining.subscribe', params: ['ethminer 0.19.0', 'EthereumStratum/1.0.0'] }) },
  { from: 's', text: line({ id: 1, result: [['mining.notify', 'ae6812eb4cd7735a302a8a9dd95cf71f', 'EthereumStratum/1.0.0'], '080c'], error: null }) },
  { from: 'c', text: line({ id: 2, method: 'mining.authorize', params: ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy.worker1', 'x'] }) },
  { from: 's', text: line({ id: 2, result: true, error: null }) },
  { from: 's', text: line({ id: null, method: 'mining.set_difficulty', params: [0.5]}) },
  {
    from: 's',
    text: line({
      id: null,
      method: 'mining.notify',
      params: ['bf0488aa', 'abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c', 'cc2ab6c3a6ab2bdd5ef3a0d4d9b5f4e1f7e4d5b2b7c3e1c1a9f3e6d8c7b2a1f3', true],
    }),
  },
  { from: 'c', text: line({ id: 3, method: 'mining.submit', params: ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy.worker1', 'bf0488aa', '6f7c5a9a2e3e'] }) },
  { from: 's', text: line({ id: 3, result: true, error: null }) },
];

const getworkBody = JSON.stringify({ method: 'getwork', params: [], id: 0 });
const getworkReply = JSON.stringify({
  result: {
    midstate: '2b3f81261b3cfd001db436cfd4c8f3f9c7450c9a0d049bee71cba0ea2619c0b5',
    data: '00000001c570c4764aadb3f09895619f549000b8b51a789e7f58ea750000709700000000103ca064f8c76c390683f8203043e91466a7fcc40e6ebc428fbcc2d89b574a864db8345b1b00b5ac00000000000000800000000000000000000000000000000000000000000000000000000000000000000000000000000080020000',
    hash1: '00000000000000000000000000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000010000',
    target: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000',
  },
  error: null,
  id: 0,
});

/** Getwork over HTTP, as cgminer 2.x sent it to a pool. */
export const httpGetwork: Say[] = [
  {
    from: 'c',
    text:
      'POST / HTTP/1.1\r\nAuthorization: Basic d29ya2VyOng=\r\nHost: pool.example.net:8332\r\nAccept: */*\r\n' +
      'Accept-Encoding: deflate, gzip\r\nContent-type: application/json\r\nX-Mining-Extensions: longpoll midstate rollntime submitold\r\n' +
      `X-Mining-Hashrate: 1234567\r\nContent-Length: ${getworkBody.length}\r\nUser-Agent: cgminer 2.7.2\r\n\r\n${getworkBody}`,
  },
  {
    from: 's',
    text: `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Long-Polling: /LP\r\nContent-Length: ${getworkReply.length}\r\n\r\n${getworkReply}`,
  },
];

/** A bitcoind wallet JSON-RPC call: JSON-RPC, but not mining. */
export const walletRpc: Say[] = [
  {
    from: 'c',
    text: (() => {
      const body = JSON.stringify({ jsonrpc: '1.0', id: 'curltest', method: 'getbalance', params: [] });
      return `POST / HTTP/1.1\r\nHost: 127.0.0.1:8332\r\nAuthorization: Basic dXNlcjpwYXNz\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    })(),
  },
  { from: 's', text: 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n{"result":0.12345678,"error":null,"id":1}' },
];

/** An ordinary web page fetch. */
export const webPage: Say[] = [
  { from: 'c', text: 'GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n' },
  { from: 's', text: 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 44\r\n\r\n<html><body>{"not":"json-rpc"}</body></html>' },
];

/** A JSON web API that happens to use "method" and "params" keys (LSP-style JSON-RPC). */
export const jsonApi: Say[] = [
  { from: 'c', text: line({ jsonrpc: '2.0', id: 1, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///a.ts' }, position: { line: 1, character: 2 } } }) },
  { from: 's', text: line({ jsonrpc: '2.0', id: 1, result: { contents: 'hover text' } }) },
  { from: 'c', text: line({ jsonrpc: '2.0', id: 2, method: 'login', params: { username: 'alice', password: 'secret' } }) },
  { from: 's', text: line({ jsonrpc: '2.0', id: 2, result: { token: 'abc' } }) },
];

/** Bitcoin P2P: a full node's version message (mainnet magic). */
export function bitcoinVersionMessage(): Buffer {
  const ua = '/Satoshi:25.0.0/';
  const payload = Buffer.alloc(4 + 8 + 8 + 26 + 26 + 8 + 1 + ua.length + 4 + 1);
  let o = 0;
  o = payload.writeInt32LE(70016, o);
  payload.writeBigUInt64LE(0x409n, o); // NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED
  o += 8;
  payload.writeBigInt64LE(1704067200n, o);
  o += 8;
  o += 26; // addr_recv (services, ::ffff:ip, port) left zero
  o += 26; // addr_from
  payload.writeBigUInt64LE(0x1122334455667788n, o);
  o += 8;
  o = payload.writeUInt8(ua.length, o);
  o += payload.write(ua, o, 'latin1');
  o = payload.writeInt32LE(820000, o);
  payload.writeUInt8(1, o);
  const header = Buffer.alloc(24);
  Buffer.from('f9beb4d9', 'hex').copy(header, 0);
  header.write('version', 4, 'latin1');
  header.writeUInt32LE(payload.length, 16);
  // checksum: first 4 bytes of sha256d(payload)
  const h = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest();
  h.copy(header, 20, 0, 4);
  return Buffer.concat([header, payload]);
}
