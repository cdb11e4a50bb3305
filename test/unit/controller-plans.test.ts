import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { projectExport } from '../../src/engine/controller/project-export.js';
import { registryService } from '../../src/engine/controller/registry-service.js';
import { followStream, type DockerEvent } from '../../src/engine/docker-images.js';
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
    const create = registryService.plan({ os: 'debian', image: 'present', spec: '', running: 'false' }, ctx);
    expect(create).toMatchObject({ kind: 'change', apply: { DO_CREATE: '1' } });
    return { os: 'debian', image: 'present', spec: registryService.inputs(ctx).SPEC ?? '', running: 'true' };
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

  it('refuses when the image is neither on init nor to be had', () => {
    expect(registryService.plan({ os: 'debian', image: 'absent' }, context())).toMatchObject({ kind: 'refuse', reason: expect.stringContaining('is not on init') });
  });
});

describe("init's project share", () => {
  const done: Facts = { os: 'debian', export_dir: 'yes', installed: 'yes', hidden: 'ok', conf: 'ok', active: 'active' };

  it('exports to the overlay subnet unless NFS_CLIENTS says otherwise', () => {
    const fresh = { ...done, installed: 'no', hidden: 'absent', conf: 'differs', active: 'inactive' };
    expect(projectExport.plan(fresh, context())).toEqual({
      kind: 'change',
      changes: ['install nfs-ganesha', "hide pcc's state folder (.pcc) from the share", 'export /srv/pcc/project as /project to 10.128.0.0/16 (NFSv4, read-write)', 'start nfs-ganesha'],
      apply: { DO_INSTALL: '1', DO_HIDE: '1', DO_CONF: '1' },
    });
    expect(projectExport.inputs(context({ 'hosts/global.env': 'NFS_CLIENTS=192.168.56.0/24, 10.128.0.0/16\n' })).CLIENTS).toBe('192.168.56.0/24, 10.128.0.0/16');
    expect(projectExport.plan(done, context())).toEqual({ kind: 'unchanged' });
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
