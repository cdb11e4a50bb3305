import { cpSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { makeProject, tempDir } from '../helpers/project.js';

function loadError(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): ConfigError {
  const root = makeProject(files);
  try {
    loadConfig(root, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted a malformed configuration');
}

describe('loadConfig', () => {
  it('loads the configuration shipped in config/ with its documented defaults', () => {
    const root = tempDir('pcc-shipped-');
    cpSync(path.resolve('config'), path.join(root, 'config'), { recursive: true });
    const config = loadConfig(root, {});
    expect(config.varLibDocker).toEqual({ gb: 10, file: '/var/lib/docker.btrfs' });
    expect(config.defaultProvider).toBe('vagrant');
    expect(config.vagrant.backend).toBe('virtualbox');
    expect(config.registry.image).toBe('registry:3');
    expect(config.hosts.compute.registryHost).toBe('10.128.0.1:5000');
    expect(config.hosts.init.registryHost).toBe('localhost:5000');
    expect(config.hosts.compute.overlay).toMatchObject({ subnet: '10.128.0.0/16', port: 51820, mtu: 1420 });
    expect(config.project.shareDir).toBe(root);
    expect(config.sources.VARLIBDOCKER_GB).toEqual({ kind: 'file', file: 'config/project.env', line: 5 });
  });

  it('lets environment variables override files, and role files override global.env', () => {
    const root = makeProject({
      'project.env': 'VARLIBDOCKER_GB=10\nVAGRANT_PROVIDER=virtualbox\n',
      'hosts/global.env': 'NFS_SERVER=10.128.0.1\n',
      'hosts/compute.env': 'NFS_SERVER=10.128.0.9\n',
    });
    const config = loadConfig(root, { VARLIBDOCKER_GB: '3', VAGRANT_PROVIDER: 'docker', VAGRANT_DOCKER_IMAGE: 'fleet:1' });
    expect(config.varLibDocker.gb).toBe(3);
    expect(config.sources.VARLIBDOCKER_GB).toEqual({ kind: 'env' });
    expect(config.vagrant).toMatchObject({ backend: 'docker', dockerImage: 'fleet:1' });
    expect(config.hosts.compute.nfsServer).toBe('10.128.0.9');
    expect(config.hosts.init.nfsServer).toBe('10.128.0.1');
  });

  it('reads quoted values, export prefixes, comments and multi-line double quotes as dotenv does', () => {
    const root = makeProject({
      'project.env': [
        '# comment',
        'export PROJECT_NAME="my-lab"   # trailing comment',
        "VAGRANT_BOX='debian/bookworm64'",
        'REGISTRY_IMAGE=registry:3 # comment',
        '',
      ].join('\n'),
    });
    const config = loadConfig(root, {});
    expect(config.project.name).toBe('my-lab');
    expect(config.vagrant.box).toBe('debian/bookworm64');
    expect(config.registry.image).toBe('registry:3');
    expect(config.sources.VAGRANT_BOX).toEqual({ kind: 'file', file: 'config/project.env', line: 3 });
  });

  it('derives the project name from the folder when PROJECT_NAME is unset', () => {
    const config = loadConfig(makeProject({}, 'My Lab_2'), {});
    expect(config.project.name).toBe('my-lab-2');
  });

  it('keeps AWS secrets out of printed and serialised config', () => {
    const root = makeProject({ '.private': "AWS_ACCESS_KEY_ID='AKIAABCDEFGHIJKLMNOP'\nAWS_SECRET_ACCESS_KEY='wJalr/K7MDENG+bPxRfiCYzEXAMPLEKEY'\n" });
    const config = loadConfig(root, {});
    expect(config.aws.secretAccessKey?.reveal()).toBe('wJalr/K7MDENG+bPxRfiCYzEXAMPLEKEY');
    expect(JSON.stringify(config)).not.toContain('wJalr');
    expect(String(config.aws.secretAccessKey)).toBe('[secret]');
  });

  type Case = [description: string, files: Record<string, string>, where: string, key: string, accepted: RegExp];
  const malformed: Case[] = [
    ['a word for a size', { 'project.env': '\nVARLIBDOCKER_GB=ten\n' }, 'config/project.env:2', 'VARLIBDOCKER_GB', /whole number from 1 to 16384/],
    ['a zero size', { 'project.env': 'VARLIBDOCKER_GB=0\n' }, 'config/project.env:1', 'VARLIBDOCKER_GB', /whole number from 1/],
    ['a negative size', { 'project.env': 'VARLIBDOCKER_GB=-5\n' }, 'config/project.env:1', 'VARLIBDOCKER_GB', /whole number/],
    ['a fractional size', { 'project.env': '# x\n\nVARLIBDOCKER_GB=1.5\n' }, 'config/project.env:3', 'VARLIBDOCKER_GB', /whole number/],
    ['an unknown provider', { 'project.env': 'DEFAULT_PROVIDER=openstack\n' }, 'config/project.env:1', 'DEFAULT_PROVIDER', /one of: vagrant, ec2/],
    ['an unknown Vagrant backend', { 'project.env': 'VAGRANT_PROVIDER=hyperv\n' }, 'config/project.env:1', 'VAGRANT_PROVIDER', /one of: virtualbox, libvirt, docker/],
    ['an unterminated double quote', { 'project.env': 'VARLIBDOCKER_GB=10\nVAGRANT_BOX="bento/ubuntu-24.04\n' }, 'config/project.env:2', 'VAGRANT_BOX', /unterminated quote/],
    ['an unterminated single quote', { 'project.env': "VAGRANT_BOX='bento/ubuntu\nVARLIBDOCKER_GB=3\n" }, 'config/project.env:1', 'VAGRANT_BOX', /unterminated quote/],
    ['text after a closing quote', { 'project.env': 'VAGRANT_BOX="a" b\n' }, 'config/project.env:1', 'VAGRANT_BOX', /after the closing quote/],
    ['a line that is not an assignment', { 'project.env': 'VARLIBDOCKER_GB 10\n' }, 'config/project.env:1', 'VARLIBDOCKER_GB 10', /KEY=value/],
    ['a key starting with a digit', { 'project.env': '1GB=3\n' }, 'config/project.env:1', '1GB', /not a valid key name/],
    ['a misspelt key', { 'project.env': 'VARLIBDOCKER_G=10\n' }, 'config/project.env:1', 'VARLIBDOCKER_G', /Did you mean VARLIBDOCKER_GB/],
    ['a key in the wrong file', { 'project.env': 'REGISTRY_HOST=10.0.0.1:5000\n' }, 'config/project.env:1', 'REGISTRY_HOST', /config\/hosts\/global\.env/],
    ['a key set twice', { 'project.env': 'VARLIBDOCKER_GB=10\nVARLIBDOCKER_GB=20\n' }, 'config/project.env:2', 'VARLIBDOCKER_GB', /set twice \(first on line 1\)/],
    ['a registry with a scheme', { 'hosts/global.env': 'REGISTRY_HOST=http://10.0.0.1:5000\n' }, 'config/hosts/global.env:1', 'REGISTRY_HOST', /host:port with no scheme/],
    ['a registry port out of range', { 'hosts/compute.env': '\nREGISTRY_HOST=init:99999\n' }, 'config/hosts/compute.env:2', 'REGISTRY_HOST', /host:port/],
    ['a subnet prefix out of range', { 'hosts/global.env': 'OVERLAY_SUBNET=10.128.0.0/33\n' }, 'config/hosts/global.env:1', 'OVERLAY_SUBNET', /CIDR form/],
    ['a subnet that is no address', { 'hosts/global.env': 'OVERLAY_SUBNET=300.1.1.1/16\n' }, 'config/hosts/global.env:1', 'OVERLAY_SUBNET', /CIDR form/],
    ['a port that is a word', { 'hosts/init.env': 'OVERLAY_PORT=wg\n' }, 'config/hosts/init.env:1', 'OVERLAY_PORT', /UDP port/],
    ['an MTU too small', { 'hosts/global.env': 'OVERLAY_MTU=100\n' }, 'config/hosts/global.env:1', 'OVERLAY_MTU', /from 1280 to 9000/],
    ['an empty NFS server', { 'hosts/global.env': 'NFS_SERVER=\n' }, 'config/hosts/global.env:1', 'NFS_SERVER', /host name or an IPv4 address/],
    ['a project name with spaces', { 'project.env': 'PROJECT_NAME="my lab"\n' }, 'config/project.env:1', 'PROJECT_NAME', /lower-case letters/],
    ['the docker backend without an image', { 'project.env': 'VAGRANT_PROVIDER=docker\n' }, 'config/project.env:1', 'VAGRANT_DOCKER_IMAGE', /fleet:up/],
    ['an access key without its secret', { '.private': 'AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n' }, 'config/.private:1', 'AWS_SECRET_ACCESS_KEY', /config\/\.private/],
    ['a CIDR list with a bad entry', { 'project.env': 'EC2_SSH_CIDRS=203.0.113.7/32, 10.0.0.0/40\n' }, 'config/project.env:1', 'EC2_SSH_CIDRS', /CIDR form/],    ['an export path that would break the NFS configuration', { 'hosts/global.env': 'NFS_EXPORT="/project\\"{};"\n' }, 'config/hosts/global.env:1', 'NFS_EXPORT', /absolute export path of letters/],
    ['an export path that climbs out', { 'hosts/global.env': 'NFS_EXPORT=/srv/../etc\n' }, 'config/hosts/global.env:1', 'NFS_EXPORT', /without \. or \.\. parts/],
    ['NFS clients that add up to the whole world', { 'hosts/global.env': 'NFS_CLIENTS=0.0.0.0/1,128.0.0.0/1\n' }, 'config/hosts/global.env:1', 'NFS_CLIENTS', /only inside private networks/],
    ['NFS clients that reach beyond a private range', { 'hosts/global.env': 'NFS_CLIENTS=10.128.0.0/16,8.0.0.0/7\n' }, 'config/hosts/global.env:1', 'NFS_CLIENTS', /only inside private networks/],
    ['a # inside an unquoted value', { 'hosts/global.env': 'OVERLAY_DRIVER=weave\nWEAVE_PASSWORD=abc#def\n' }, 'config/hosts/global.env:2', 'WEAVE_PASSWORD', /Quote the value/],
    ['a line break in a double-quoted value', { 'project.env': 'VAGRANT_BOX="debian/\nbookworm64"\n' }, 'config/project.env:1', 'VAGRANT_BOX', /control character/],
    ['an escape character in a value', { 'project.env': 'VAGRANT_BOX="debian\x1b[2J"\n' }, 'config/project.env:1', 'VAGRANT_BOX', /control character/],
  ];

  it('keeps a comment after a value and a quoted #', () => {
    const root = makeProject({ 'project.env': "VAGRANT_BOX=debian/bookworm64 # the default\nPROJECT_DIR='data#1'\n" });
    const config = loadConfig(root, {});
    expect(config.vagrant.box).toBe('debian/bookworm64');
    expect(config.project.shareDir.endsWith('data#1')).toBe(true);
  });

  it('refuses a control character from the environment too', () => {
    expect(loadError({}, { VAGRANT_BOX: 'debian\nProxyCommand x' }).message).toMatch(/^environment variable VAGRANT_BOX: VAGRANT_BOX: the value holds a control character/);
  });

  it.each(malformed)('rejects %s naming file:line and key', (_description, files, where, key, accepted) => {
    const error = loadError(files);
    const text = `${error.message}\n${error.hint ?? ''}`;
    expect(error.message.startsWith(`${where}: `)).toBe(true);
    expect(text).toContain(key);
    expect(text).toMatch(accepted);
    expect(error.exitCode).toBe(2);
  });

  it('names the environment variable when an override is malformed', () => {
    const error = loadError({ 'project.env': 'VARLIBDOCKER_GB=10\n' }, { VARLIBDOCKER_GB: 'ten' });
    expect(error.message).toBe('environment variable VARLIBDOCKER_GB: VARLIBDOCKER_GB="ten": expected a size in GiB: a whole number from 1 to 16384');
  });

  it('never shows a secret value in an error', () => {
    const error = loadError({ 'hosts/global.env': 'OVERLAY_DRIVER=weave\nWEAVE_PASSWORD=""\n' });
    expect(error.message).toContain('config/hosts/global.env:2: WEAVE_PASSWORD=[secret]');
  });
});

describe('README', () => {
  it('documents every configuration key', async () => {
    const { readFileSync } = await import('node:fs');
    const { KEYS } = await import('../../src/core/config/schema.js');
    const readme = readFileSync('README.md', 'utf8');
    const missing = Object.keys(KEYS).filter((key) => !readme.includes(`| \`${key}\` |`));
    expect(missing).toEqual([]);
  });
});
