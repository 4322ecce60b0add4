import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Flow } from '../../../src/flows/flow';
import { HubbleConnectionError, fetchServerStatus, streamHubbleEvents } from '../../../src/hubble/observer-client';
import { type ReplayServer, startReplayServer } from '../../../src/hubble/replay-server';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble', 'basic-sample-5-http-flows.json');
const SERVER_NAME = 'instance.hubble-relay.cilium.io';

/** A throwaway CA with a server certificate for *.hubble-relay.cilium.io and a client certificate, made with openssl. */
function makeCerts(dir: string): Record<'ca' | 'otherCa' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca'])
    ssl('req', '-x509', ...newKey, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.crt`), '-days', '1', '-subj', `/CN=${ca}`);
  fs.writeFileSync(f('server.ext'), `subjectAltName=DNS:*.hubble-relay.cilium.io\nextendedKeyUsage=serverAuth\n`);
  fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, cn] of [
    ['server', SERVER_NAME],
    ['client', 'hubble-graph'],
  ]) {
    ssl('req', ...newKey, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${who}.crt`),
      '-days',
      '1',
      '-extfile',
      f(`${who}.ext`),
    );
  }
  return {
    ca: f('ca.crt'),
    otherCa: f('other-ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  };
}

const expected: Flow[] = fs
  .readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l).flow);

async function readAll(hubble: Parameters<typeof streamHubbleEvents>[0]['hubble']): Promise<Flow[]> {
  const ac = new AbortController();
  const got: Flow[] = [];
  for await (const ev of streamHubbleEvents({ hubble, signal: ac.signal, maxConsecutiveFailures: 1 })) {
    if (ev.kind === 'flow') got.push(ev.flow);
    if (got.length === expected.length) ac.abort();
  }
  return got;
}

describe('TLS and mTLS to Hubble', () => {
  let dir: string;
  let certs: ReturnType<typeof makeCerts>;
  let server: ReplayServer | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-tls-'));
    certs = makeCerts(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('streams over TLS, verifying the server name Hubble Relay uses, not the address dialled', async () => {
    server = await startReplayServer({ files: [FIXTURE], tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    const got = await readAll({
      server: server.address,
      tls: true,
      tlsCaFile: certs.ca,
      tlsServerName: SERVER_NAME,
      reconnectMinMs: 10,
      reconnectMaxMs: 50,
    });
    expect(got).toEqual(expected);
  });

  it('streams over mTLS with a client certificate, and is refused without one', async () => {
    server = await startReplayServer({
      files: [FIXTURE],
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.ca },
    });
    const base = { server: server.address, tls: true, tlsCaFile: certs.ca, tlsServerName: SERVER_NAME };
    expect(
      await readAll({ ...base, tlsCertFile: certs.clientCert, tlsKeyFile: certs.clientKey, reconnectMinMs: 10, reconnectMaxMs: 50 }),
    ).toEqual(expected);
    await expect(fetchServerStatus(base, 5000)).rejects.toBeInstanceOf(HubbleConnectionError);
  });

  it('fails with a clear error when the server certificate is not signed by the given CA', async () => {
    server = await startReplayServer({ files: [FIXTURE], tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    const cfg = { server: server.address, tls: true, tlsCaFile: certs.otherCa, tlsServerName: SERVER_NAME };
    await expect(fetchServerStatus(cfg, 5000)).rejects.toThrow(
      /TLS handshake with Hubble at 127\.0\.0\.1:\d+ \(TLS\) failed: .*certificate.*--hubble-tls-ca-file/,
    );
    await expect(readAll({ ...cfg, reconnectMinMs: 10, reconnectMaxMs: 50 })).rejects.toThrow(/TLS handshake/);
  });

  it('fails clearly when the server name does not match the certificate', async () => {
    server = await startReplayServer({ files: [FIXTURE], tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    await expect(
      fetchServerStatus({ server: server.address, tls: true, tlsCaFile: certs.ca, tlsServerName: 'wrong.example.com' }, 5000),
    ).rejects.toThrow(/TLS handshake|certificate|altnames/i);
  });
});
