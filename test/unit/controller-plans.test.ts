import { X509Certificate } from 'node:crypto';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { projectExport } from '../../src/engine/controller/project-export.js';
import { registryService } from '../../src/engine/controller/registry-service.js';
import { followStream, type DockerEvent } from '../../src/engine/docker-images.js';
import { registryAccess } from '../../src/engine/setup/registry-access.js';
import type { Facts, StepContext } from '../../src/engine/setup/step.js';
import type { HostRecord } from '../../src/engine/state.js';
import { makeProject } from '../helpers/project.js';

const init: HostRecord = { name: 'init', provider: 'vagrant', role: 'init', computeType: 'cpu', state: 'running', extras: {}, createdAt: '', updatedAt: '' };

function context(files: Record<string, string> = {}): StepContext {
  const config = loadConfig(makeProject({ 'project.env': '', ...files }), {});
  return { host: init, config, settings: config.hosts.init, members: () => [] };
}

describe("init's registry service", () => {
  const ready = (ctx: StepContext): Facts => {
    const create = registryService.plan({ os: 'debian', image: 'present', spec: '', files: 'differs', unit: 'differs', running: 'false' }, ctx);
    expect(create).toMatchObject({ kind: 'change', apply: { DO_FILES: '1', DO_UNIT: '1', DO_CREATE: '1' } });
    return { os: 'debian', image: 'present', spec: registryService.inputs(ctx).SPEC ?? '', files: 'ok', unit: 'ok', running: 'true' };
  };

  it('runs the registry when its container differs, starts it when stopped, and is unchanged when it runs', () => {
    const ctx = context();
    const facts = ready(ctx);
    expect(registryService.plan(facts, ctx)).toEqual({ kind: 'unchanged' });
    expect(registryService.plan({ ...facts, running: 'false' }, ctx)).toEqual({ kind: 'change', changes: ['start pcc-registry'], apply: {} });
    // Another REGISTRY_IMAGE is another container: made again, over the same data.
    const other = context({ 'project.env': 'REGISTRY_IMAGE=registry:2\n' });
    expect(registryService.plan(facts, other)).toMatchObject({ kind: 'change', changes: [expect.stringContaining('run registry:2 as pcc-registry')] });
  });

  it('publishes on localhost and init\'s overlay address only, with TLS and a password; new certificates restart it', () => {
    const ctx = context();
    const facts = ready(ctx);
    const created = registryService.plan({ ...facts, spec: 'old' }, ctx);
    expect(created).toEqual({
      kind: 'change',
      changes: ['run registry:3 as pcc-registry with TLS and a password on 127.0.0.1:5000 and 10.128.0.1:5000 (data in /var/lib/pcc-registry)'],
      apply: { DO_CREATE: '1' },
    });
    expect(registryService.plan({ ...facts, files: 'differs' }, ctx)).toMatchObject({ kind: 'change', apply: { DO_FILES: '1' } });
    const inputs = registryService.inputs(ctx);
    expect(inputs.OVERLAY_ADDRESS).toBe('10.128.0.1');
    const serverCert = new X509Certificate(Buffer.from(inputs.SERVER_CERT_B64 ?? '', 'base64'));
    expect(serverCert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:10.128.0.1');
    expect(serverCert.verify(new X509Certificate(Buffer.from(inputs.CA_CERT_B64 ?? '', 'base64')).publicKey)).toBe(true);
    expect(Buffer.from(inputs.HTPASSWD_B64 ?? '', 'base64').toString()).toMatch(/^pcc:\$2[aby]\$04\$.{53}\n$/);
  });

  it("gives init's own engine the registry as builds name it (localhost:5000) as well as $REGISTRY_HOST", () => {
    const ctx = context();
    expect(registryAccess.inputs(ctx).REGISTRIES).toBe('10.128.0.1:5000 localhost:5000');
    const plan = registryAccess.plan({ os: 'debian', profile: 'ok', environment: 'ok', trust: 'ok', login: 'ok', root_config: 'absent', user: '', user_config: 'absent' }, ctx);
    const config = plan.kind === 'change' ? JSON.parse(Buffer.from(plan.apply.ROOT_CONFIG_B64 ?? '', 'base64').toString()) : undefined;
    expect(config).toEqual({ credHelpers: { '10.128.0.1:5000': 'pcc', 'localhost:5000': 'pcc' } });
  });

  it('refuses when the image is neither on init nor to be had', () => {
    expect(registryService.plan({ os: 'debian', image: 'absent' }, context())).toMatchObject({ kind: 'refuse', reason: expect.stringContaining('is not on init') });
  });
});

describe("init's project share", () => {
  const done: Facts = { os: 'debian', export_dir: 'yes', installed: 'yes', hidden: 'ok', conf: 'ok', active: 'active' };

  const member = (name: string, index: number) => ({ name, index, peerId: undefined, endpoint: undefined });

  it("exports to each host's own overlay address (never init's, never the subnet), root squashed, hiding .pcc and config", () => {
    const fresh = { ...done, installed: 'no', hidden: 'absent', conf: 'differs', active: 'inactive' };
    const withHosts = { ...context(), members: () => [member('init', 1), member('vagrant2', 3), member('vagrant1', 2)] };
    expect(projectExport.plan(fresh, withHosts)).toEqual({
      kind: 'change',
      changes: [
        'install nfs-ganesha',
        'hide .pcc and config from the share',
        'export /srv/pcc/project as /project to 10.128.0.2/32, 10.128.0.3/32 (NFSv4, read-write, root squashed)',
        'start nfs-ganesha',
      ],
      apply: { DO_INSTALL: '1', DO_HIDE: '1', DO_CONF: '1' },
    });
    expect(projectExport.inputs(withHosts)).toMatchObject({ CLIENTS: '10.128.0.2/32, 10.128.0.3/32', HIDE_DIRS: '/srv/pcc/project/.pcc\n/srv/pcc/project/config' });
    // Before any host exists, nobody is admitted.
    expect(projectExport.inputs(context()).CLIENTS).toBe('');
    expect(projectExport.plan({ ...fresh, conf: 'differs' }, context())).toMatchObject({ changes: expect.arrayContaining([expect.stringContaining('to no host yet')]) });
    // NFS_CLIENTS replaces the hosts' addresses.
    expect(projectExport.inputs({ ...context({ 'hosts/global.env': 'NFS_CLIENTS=192.168.56.0/24, 10.128.0.0/16\n' }), members: withHosts.members }).CLIENTS).toBe('192.168.56.0/24, 10.128.0.0/16');
    expect(projectExport.plan(done, context())).toEqual({ kind: 'unchanged' });
  });

  it('a share of a subfolder (PROJECT_DIR) hides nothing it does not hold', () => {
    const sub = context({ 'project.env': 'PROJECT_DIR=data\n' });
    expect(projectExport.inputs(sub)).toMatchObject({ EXPORT_DIR: '/srv/pcc/project/data', HIDE_DIRS: '' });
  });

  it('serves a folder shared through virtiofs or 9p through a bindfs view, and leaves one that has it alone', () => {
    expect(projectExport.plan({ ...done, view: 'differs', conf: 'differs' }, context())).toEqual({
      kind: 'change',
      changes: [
        "serve /srv/pcc/project through a bindfs view, whose file handles last (the provider's shared folder reuses them)",
        'export /srv/pcc/project as /project to no host yet (NFSv4, read-write, root squashed)',
      ],
      apply: { DO_VIEW: '1', DO_CONF: '1' },
    });
    expect(projectExport.plan({ ...done, view: 'ok' }, context())).toEqual({ kind: 'unchanged' });
    expect(projectExport.plan({ ...done, view: 'none' }, context())).toEqual({ kind: 'unchanged' });
  });

  it('refuses when init does not see the project folder', () => {
    expect(projectExport.plan({ ...done, export_dir: 'no' }, context())).toMatchObject({ kind: 'refuse', reason: expect.stringContaining('the provider did not sync it') });
  });
});

describe('Docker progress streams', () => {
  const docker = new Docker({ socketPath: '/nonexistent.sock' });
  const streamOf = (events: DockerEvent[]) => {
    const stream = new PassThrough();
    for (const event of events) stream.write(`${JSON.stringify(event)}\r\n`);
    stream.end();
    return stream;
  };

  it('an error event fails the stream, though the stream itself ends normally; every event is seen', async () => {
    const seen: DockerEvent[] = [];
    const events = [{ stream: 'Step 1/2 : FROM busybox' }, { errorDetail: { message: 'returned a non-zero code: 3' }, error: 'returned a non-zero code: 3' }, { stream: 'after' }];
    await expect(followStream(docker, streamOf(events), (event) => seen.push(event))).rejects.toThrow('returned a non-zero code: 3');
    expect(seen).toEqual(events);
  });

  it('a stream without errors resolves with its events', async () => {
    const events = [{ status: 'Pushing' }, { status: 'latest: digest: sha256:abc size: 528', aux: { ID: 'sha256:abc' } }];
    await expect(followStream(docker, streamOf(events))).resolves.toEqual(events);
  });
});
