import { createConnection, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync, hasCommand, logLines } from './helpers/cli.js';
import { XMR_WALLET, xmrigSession } from './helpers/sessions.js';

const canCapture = hasCommand('tcpdump') && process.getuid?.() === 0;
if (!canCapture) console.warn('skipping live-capture tests: they need tcpdump and root (apt-get install tcpdump)');

/** A pool on loopback that answers an XMRig miner with the scripted session. */
async function minePool(): Promise<{ port: number; run: () => Promise<void>; close: () => void }> {
  const server = createServer((sock) => {
    let n = 0;
    sock.on('data', () => {
      // Answer each miner message with the pool's next lines.
      const replies = xmrigSession.filter((s) => s.from === 's');
      if (n < replies.length) sock.write(replies[n++].text as string);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const run = () =>
    new Promise<void>((resolve, reject) => {
      const c = createConnection(port, '127.0.0.1', async () => {
        for (const s of xmrigSession.filter((s) => s.from === 'c')) {
          c.write(s.text as string);
          await new Promise((r) => setTimeout(r, 50));
        }
        c.end();
      });
      c.on('data', () => {});
      c.on('close', () => resolve());
      c.on('error', reject);
    });
  return { port, run, close: () => server.close() };
}

describe('poolwatch scan --interface (live capture through tcpdump)', () => {
  it.skipIf(!canCapture)('records a miner on loopback and flushes on SIGINT', async () => {
    const pool = await minePool();
    const scan = cliAsync(['scan', '-f', 'json', '--interface', 'lo', '--bpf', `tcp port ${pool.port}`]);
    // tcpdump says "listening on lo" once it captures.
    for (let i = 0; i < 100 && !scan.stderr().includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
    await pool.run();
    await new Promise((r) => setTimeout(r, 700));
    scan.child.kill('SIGINT');
    const r = await scan.done;
    pool.close();
    expect(r.code, r.stderr).toBe(0);
    const recs = JSON.parse(r.stdout);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ src: '127.0.0.1', pools: [{ ip: '127.0.0.1', port: pool.port }], evidence: ['cryptonote'], logins: [XMR_WALLET] });
    expect(recs[0].sharesAccepted).toBe(1);
  });

  it.skipIf(!canCapture)('a missing interface is a clear error, exit 2', () => {
    const r = cli(['scan', '--interface', 'nosuchif0']);
    expect(r.code).toBe(2);
    const err = logLines(r.stderr).find((l) => l.level >= 50)!;
    expect(err.msg).toMatch(/nosuchif0/);
  });

  it('an interface name that looks like an option is refused', () => {
    const r = cli(['scan', '--interface', '-w/tmp/x']);
    expect(r.code).toBe(2);
  });
});
