import { hasError, isHex, isObject, str, type JsonRpcMessage } from '../jsonrpc.js';
import { splitLogin } from '../coin.js';
import { cryptonoteDifficulty } from '../difficulty.js';
import { newResult, type Dialect, type DialectResult } from './types.js';

/**
 * CryptoNote stratum as XMRig, xmr-stak and Monero pools speak it: login / getjob / submit /
 * keepalived from the miner, job pushes and login answers carrying {blob, job_id, target} from
 * the pool. "login", "submit" and "job" are common words, so each needs its mining shape.
 */

function cnResult(sender: 'miner' | 'pool', weak = false): DialectResult {
  const r = newResult('cryptonote', sender, weak);
  r.coinHint = 'xmr';
  return r;
}

/** {blob, job_id, target}: a hashing blob in hex, a job id and a 4/8-byte (or wider) target. */
function isJob(v: unknown): v is Record<string, unknown> {
  return isObject(v) && isHex(v.blob, 64, 1024) && str(v.job_id) !== null && isHex(v.target, 8, 64);
}

function fromJob(r: DialectResult, job: Record<string, unknown>): DialectResult {
  r.target = job.target as string;
  r.difficulty = cryptonoteDifficulty(r.target);
  r.algo = str(job.algo, 64);
  return r;
}

/**
 * {login, pass, agent, algo: [...], rigid}. A login without agent or algo list counts only when
 * the login is a wallet address: {username, password} or {login, pass} of a web API does not.
 */
function login(msg: JsonRpcMessage): DialectResult | null {
  const p = msg.params;
  if (!isObject(p)) return null;
  const user = str(p.login, 512);
  if (user === null) return null;
  const agent = str(p.agent);
  const algos = Array.isArray(p.algo) ? p.algo : null;
  const parts = splitLogin(user);
  if (agent === null && algos === null && !(typeof p.pass === 'string' && parts.coin !== null)) return null;
  const r = cnResult('miner');
  r.request = 'cn_login';
  r.login = user;
  r.agent = agent;
  // XMRig lists every algorithm it supports; only a single entry says what it will mine.
  if (algos !== null && algos.length === 1) r.algo = str(algos[0], 64);
  r.worker = str(p.rigid, 64) ?? parts.worker;
  return r;
}

/** {id, job_id, nonce, result}: nonce and hash result in hex. */
function submit(msg: JsonRpcMessage): DialectResult | null {
  const p = msg.params;
  if (!isObject(p) || str(p.job_id) === null || !isHex(p.nonce, 8, 16) || !isHex(p.result, 64, 64)) return null;
  const r = cnResult('miner');
  r.request = 'cn_submit';
  r.share = 'submitted';
  r.algo = str(p.algo, 64);
  return r;
}

export const cryptonote: Dialect = (msg) => {
  switch (msg.method) {
    case 'login':
      return login(msg);
    case 'submit':
      return submit(msg);
    case 'job':
      return isJob(msg.params) ? fromJob(cnResult('pool'), msg.params) : null;
    case 'getjob': {
      if (!isObject(msg.params)) return null;
      const r = cnResult('miner', true);
      r.request = 'cn_getjob';
      return r;
    }
    case 'keepalived': {
      const r = cnResult('miner', true);
      r.request = 'cn_keepalive';
      return r;
    }
    case null:
      break;
    default:
      return null;
  }
  const res = msg.result;
  switch (msg.answers) {
    case 'cn_login':
    case 'cn_getjob': {
      const r = cnResult('pool');
      const job = isObject(res) && isJob(res.job) ? res.job : isJob(res) ? res : null;
      return job !== null ? fromJob(r, job) : r;
    }
    case 'cn_submit': {
      const r = cnResult('pool');
      if (!hasError(msg) && isObject(res) && str(res.status) === 'OK') r.share = 'accepted';
      else if (hasError(msg)) r.share = 'rejected';
      return r;
    }
    case 'cn_keepalive':
      return cnResult('pool', true);
  }
  // A login answer recognisable alone: {"id":"…","job":{blob, job_id, target},"status":"OK"}.
  if (msg.answers === null && isObject(res) && isJob(res.job)) return fromJob(cnResult('pool'), res.job);
  return null;
};

