import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { ensureRegistryCredentials } from '../../src/core/registry-credentials.js';
import { registryCredentials } from '../../src/engine/registry-credentials.js';
import { makeProject, tempDir } from '../helpers/project.js';

const NAMES = ['localhost', '127.0.0.1', '10.128.0.1'];
const altNames = (pem: string) => new X509Certificate(pem).subjectAltName;
const signedBy = (pem: string, ca: string) => new X509Certificate(pem).verify(new X509Certificate(ca).publicKey);

describe('registry credentials', () => {
  it('makes a CA, a server certificate it signs for the names given, and a bcrypt login; keys and password are 0600', () => {
    const dir = tempDir('pcc-registry-tls-');
    const made = ensureRegistryCredentials(dir, 'proj-abc12', NAMES);
    expect(new X509Certificate(made.caCert).ca).toBe(true);
    expect(signedBy(made.serverCert, made.caCert)).toBe(true);
    expect(altNames(made.serverCert)).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:10.128.0.1');
    expect(bcrypt.compareSync(made.password.reveal(), made.htpasswd.replace(/^pcc:/, ''))).toBe(true);
    for (const file of ['ca.key', 'server.key', 'login']) expect(statSync(path.join(dir, file)).mode & 0o777, file).toBe(0o600);
    expect(JSON.stringify(made)).not.toContain(made.password.reveal());
  });

  it('keeps the CA and password; a new name gets a new server certificate from the same CA', () => {
    const dir = tempDir('pcc-registry-tls-');
    const first = ensureRegistryCredentials(dir, 'proj', NAMES);
    const again = ensureRegistryCredentials(dir, 'proj', [...NAMES].reverse());
    expect(again.serverCert).toBe(first.serverCert);
    const wider = ensureRegistryCredentials(dir, 'proj', [...NAMES, 'registry.lab']);
    expect(wider.caCert).toBe(first.caCert);
    expect(wider.password.reveal()).toBe(first.password.reveal());
    expect(wider.serverCert).not.toBe(first.serverCert);
    expect(signedBy(wider.serverCert, first.caCert)).toBe(true);
    expect(altNames(wider.serverCert)).toContain('DNS:registry.lab');
  });

  it('never replaces a CA key whose certificate is gone, nor a login it cannot read', () => {
    const dir = tempDir('pcc-registry-tls-');
    ensureRegistryCredentials(dir, 'proj', NAMES);
    const caKey = readFileSync(path.join(dir, 'ca.key'), 'utf8');
    rmSync(path.join(dir, 'ca.crt'));
    expect(() => ensureRegistryCredentials(dir, 'proj', NAMES)).toThrow(/ca\.crt is missing/);
    expect(readFileSync(path.join(dir, 'ca.key'), 'utf8')).toBe(caKey);

    const other = tempDir('pcc-registry-tls-');
    ensureRegistryCredentials(other, 'proj', NAMES);
    writeFileSync(path.join(other, 'login'), 'pcc:$2b$10$notahash\nwrong\n');
    expect(() => ensureRegistryCredentials(other, 'proj', NAMES)).toThrow(/login is not a registry login pcc made/);
  });

  it("names localhost, init's overlay address and private REGISTRY_HOSTs, never a public address", () => {
    const config = loadConfig(makeProject({ 'project.env': '', 'hosts/compute.env': 'REGISTRY_HOST=203.0.113.7:5000\n', 'hosts/init.env': 'REGISTRY_HOST=registry.lab:5000\n' }), {});
    expect(altNames(registryCredentials(config).serverCert)).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:10.128.0.1, DNS:registry.lab');
  });
});
