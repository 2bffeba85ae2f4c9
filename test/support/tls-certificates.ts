// Certificates for the bridge's TLS tests, made by openssl into a temporary directory: a
// self-signed CA, and signed by it a server certificate for 127.0.0.1 and localhost and a
// client certificate. Where openssl is not installed the TLS tests skip and say why.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL_TIMEOUT_MS = 30_000;

const hasOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: OPENSSL_TIMEOUT_MS }).status === 0;

/** For `test(name, { skip: tlsSkip() }, ...)`: false when openssl is there, a reason otherwise. */
export function tlsSkip(): string | false {
  return hasOpenssl ? false : 'openssl is not installed: no certificates for the TLS test (apt-get install openssl)';
}

export interface TestCertificates {
  /** The CA's certificate (PEM file): what a client verifies the server with, and the server its clients. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: OPENSSL_TIMEOUT_MS });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${run.status ?? run.signal}):\n${run.stderr}`);
}

/** A CA and the server's and a client's certificates, signed by it, valid for a day. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'interproc-tls-'));
  try {
    const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...curve, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=interproc test CA'], dir);
    const issue = (name: string, extensions: string): void => {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      openssl(['req', ...curve, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=interproc test ${name}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`], dir);
    };
    // localhost too: the NATS client checks a server reached by IP address against the name
    // "localhost" (it gives Node no server name for an IP).
    issue('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    issue('client', 'extendedKeyUsage=clientAuth\n');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
