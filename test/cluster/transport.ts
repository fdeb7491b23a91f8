// Talking to the control plane's processes: free loopback ports, HTTPS requests to the
// apiserver with its own CA (read from the cert dir it writes), and kubeconfig files.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface HttpResult {
  status: number;
  body: string;
}

export function httpsRequest(
  url: string,
  opts: { method?: string; token?: string; ca?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const req = https.request(url, { method: opts.method ?? 'GET', headers, ca: opts.ca, timeout: opts.timeoutMs ?? 5_000 });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * kube-apiserver writes <cert-dir>/apiserver.crt as "serving cert, then its self-signed CA".
 * Returns the CA PEM after checking that the serving cert is valid for 127.0.0.1.
 */
export function caFromCertDir(certDir: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(certDir, 'apiserver.crt'), 'utf8');
  } catch {
    return undefined; // not written yet
  }
  const certs = splitPem(text).map((pem) => ({ pem, x509: new X509Certificate(pem) }));
  const leaf = certs.find((c) => !c.x509.ca);
  const ca = certs.find((c) => c.x509.ca);
  if (!leaf || !ca) return undefined; // partially written
  if (!leaf.x509.checkIP('127.0.0.1')) {
    throw new Error(`kube-apiserver's serving certificate (${certDir}/apiserver.crt) is not valid for 127.0.0.1: ${leaf.x509.subjectAltName}`);
  }
  if (!leaf.x509.verify(ca.x509.publicKey)) {
    throw new Error(`kube-apiserver's serving certificate is not signed by the CA next to it in ${certDir}/apiserver.crt`);
  }
  return `${ca.pem}\n`;
}

export function kubeconfigFor(server: string, caData: string, user: string, token: string): string {
  // JSON is valid YAML; kubectl, kwok and client-node all read it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'droidfarm-test', cluster: { server, 'certificate-authority-data': caData } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: 'droidfarm-test', user } }],
      'current-context': user,
    },
    null,
    2,
  );
}
