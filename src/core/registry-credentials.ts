import { X509Certificate, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import forge from 'node-forge';
import { PccError } from './errors.js';
import { Secret } from './secret.js';

/** The one registry account: hosts and builds log in as it. */
export const REGISTRY_USER = 'pcc';

export interface RegistryCredentials {
  /** The project's CA certificate (PEM), which hosts trust for the registry. */
  caCert: string;
  /** The registry's certificate (PEM), signed by the CA. */
  serverCert: string;
  serverKey: Secret;
  username: string;
  password: Secret;
  /** `pcc:$2b$...`: the registry's htpasswd line (bcrypt). Made with the password, so it is stable. */
  htpasswd: string;
}

const CA_YEARS = 10;
const SERVER_DAYS = 825;
/**
 * The registry checks the bcrypt hash on every request (a pull makes several), so a slow hash slows
 * every pull. bcrypt's cost guards guessable passwords; this one is 192 random bits, which no cost
 * needs to protect, so it takes bcrypt's least.
 */
const BCRYPT_COST = 4;
/** A server certificate this close to its end is issued again. */
const RENEW_DAYS = 30;

/**
 * The project registry's TLS and login, made here once per project and kept in `dir` (the keys and
 * the password 0600): a CA of the project's own, a server certificate for the names and addresses
 * hosts reach the registry at (issued again when they change, by the same CA, so hosts keep trusting
 * it), and a random password with its bcrypt htpasswd line. Existing keys are never replaced.
 */
export function ensureRegistryCredentials(dir: string, projectId: string, names: string[]): RegistryCredentials {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caKey: path.join(dir, 'ca.key'),
    caCert: path.join(dir, 'ca.crt'),
    serverKey: path.join(dir, 'server.key'),
    serverCert: path.join(dir, 'server.crt'),
    login: path.join(dir, 'login'),
  };
  if (!existsSync(files.caKey)) {
    const key = newKey();
    writeOnce(files.caKey, key.private, 0o600);
    writeFileSync(files.caCert, caCertificate(key, projectId));
  }
  const caKey = readFileSync(files.caKey, 'utf8');
  const caCert = readOrFail(files.caCert, `Delete ${files.caKey} too: pcc then makes a new CA, and \`pcc setup\` gives every host the new certificate.`);
  if (!existsSync(files.serverKey)) writeOnce(files.serverKey, newKey().private, 0o600);
  const serverKey = readFileSync(files.serverKey, 'utf8');
  if (!existsSync(files.serverCert) || !serverCertFits(readFileSync(files.serverCert, 'utf8'), caCert, names)) {
    writeFileSync(files.serverCert, serverCertificate(serverKey, caKey, caCert, names));
  }
  if (!existsSync(files.login)) {
    const password = randomBytes(24).toString('base64url');
    writeOnce(files.login, `${REGISTRY_USER}:${bcrypt.hashSync(password, BCRYPT_COST)}\n${password}\n`, 0o600);
  }
  const [htpasswd = '', password = ''] = readFileSync(files.login, 'utf8').split('\n');
  if (!htpasswd.startsWith(`${REGISTRY_USER}:$2`) || !password || !bcrypt.compareSync(password, htpasswd.slice(REGISTRY_USER.length + 1))) {
    throw new PccError(`${files.login} is not a registry login pcc made`, {
      hint: `Delete it: pcc makes a new password, and \`pcc init\` and \`pcc setup\` give it to the registry and the hosts.`,
    });
  }
  return {
    caCert,
    serverCert: readFileSync(files.serverCert, 'utf8'),
    serverKey: new Secret(serverKey),
    username: REGISTRY_USER,
    password: new Secret(password),
    htpasswd,
  };
}

function newKey(): { private: string; public: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    private: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    public: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

// wx: a file another pcc wrote meanwhile wins.
function writeOnce(file: string, content: string, mode: number): void {
  try {
    writeFileSync(file, content, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function readOrFail(file: string, hint: string): string {
  if (!existsSync(file)) throw new PccError(`${file} is missing`, { hint });
  return readFileSync(file, 'utf8');
}

function caCertificate(key: { private: string; public: string }, projectId: string): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.public);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = daysFromNow(-1);
  cert.validity.notAfter = daysFromNow(365 * CA_YEARS);
  const subject = [{ name: 'commonName', value: `pcc registry CA (${projectId})` }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key.private), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function serverCertificate(serverKey: string, caKey: string, caCertPem: string, names: string[]): string {
  const ca = forge.pki.certificateFromPem(caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(serverKey).export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = daysFromNow(-1);
  cert.validity.notAfter = daysFromNow(SERVER_DAYS);
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...new Set(names)].map((name) => (isIpv4(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Signed by this CA, naming exactly these names, and not near its end. */
function serverCertFits(certPem: string, caCertPem: string, names: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caCertPem);
    const altNames = (cert.subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
    const renewBy = Date.now() + RENEW_DAYS * 86_400_000;
    return cert.verify(ca.publicKey) && new Date(cert.validTo).getTime() > renewBy && [...altNames].sort().join() === [...new Set(names)].sort().join();
  } catch {
    return false;
  }
}

function serialNumber(): string {
  // Positive: the leading bit of a DER integer is its sign.
  return `01${randomBytes(15).toString('hex')}`;
}

function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * 86_400_000);
}

function isIpv4(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}
