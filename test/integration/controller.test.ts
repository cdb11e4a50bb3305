import { createHash } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';

/** init's address on the overlay (index 1 of the default subnet). */
const INIT_OVERLAY = '10.128.0.1';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSHAREKEY';
/** The project folder's owner, as a user's own laptop account would be. */
const USER_UID = 1000;

interface BuildResult { image: string; outcome: string; reason?: string; durationMs: number }
interface InitReport {
  ok: boolean;
  setup: { host: string; steps: { step: string; outcome: string }[] }[];
  builds?: { results: BuildResult[]; ignored: { folder: string; reason: string }[] };
}
interface Repository { name: string; tags: { tag: string; digest?: string; size?: number }[] }

const TEST_IMAGES: Record<string, string> = {
  '010-base': 'FROM busybox:stable\nRUN echo base > /base.txt\n',
  '020-child': 'ARG REGISTRY_HOST\nFROM ${REGISTRY_HOST}/base\nRUN cat /base.txt\nCMD ["cat", "/base.txt"]\n',
  '030-broken': 'FROM busybox:stable\nRUN echo "boom: this step fails on purpose" >&2 && exit 3\n',
  '040-orphan': 'FROM broken\n',
  '050-solo': 'FROM scratch\nCOPY solo.txt /solo.txt\n',
  abc: 'FROM scratch\n',
  '10-': 'FROM scratch\n',
  '007-x': '',
};

/** Plain HTTP to the registry at init's address (for pushing many small repositories quickly). */
function http(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body ?? '')) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the controller init on the fleet', () => {
  const project = makeFleetProject('ctl');
  const initContainer = `pcc-${project.name}-init`;
  const onHost = async (container: string, command: string) => (await execa('docker', ['exec', container, 'bash', '-c', command])).stdout.trim();
  const initAddress = async () => (await execa('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', initContainer])).stdout.trim();
  let digests: Repository[] = [];

  beforeAll(() => {
    const docker = path.join(project.root, 'docker');
    for (const [folder, dockerfile] of Object.entries(TEST_IMAGES)) {
      mkdirSync(path.join(docker, folder), { recursive: true });
      if (dockerfile) writeFileSync(path.join(docker, folder, 'Dockerfile'), dockerfile);
    }
    writeFileSync(path.join(docker, '050-solo', 'solo.txt'), 'solo\n');
    cpSync(path.resolve('docker/999-mybusybox'), path.join(docker, '999-mybusybox'), { recursive: true });
    // AWS keys the share must never serve, and a project folder owned by a user, as on a laptop.
    writeFileSync(path.join(project.root, 'config', '.private'), `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=${SECRET}\n`, { mode: 0o600 });
    chownSync(project.root, USER_UID, USER_UID);
  });
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('pcc init builds the images in order: failures show their error, dependents are skipped, malformed folders ignored', async () => {
    const result = await pcc(project, ['init', '--json']);
    const report = JSON.parse(result.stdout) as InitReport;
    expect(result.exitCode, result.stderr).toBe(1);
    const byImage = Object.fromEntries(report.builds?.results.map((r) => [r.image, r]) ?? []);
    expect(Object.fromEntries(Object.entries(byImage).map(([name, r]) => [name, r.outcome]))).toEqual({
      base: 'done', child: 'done', broken: 'failed', orphan: 'skipped', solo: 'done', mybusybox: 'done',
    });
    expect(byImage.broken?.reason).toMatch(/returned a non-zero code: 3/);
    expect(readFileSync(path.join(project.root, '.pcc', 'logs', 'build-broken.log'), 'utf8')).toContain('boom: this step fails on purpose');
    expect(byImage.orphan?.reason).toBe('FROM broken, which failed');
    expect(report.builds?.ignored.map((f) => f.folder)).toEqual(['007-x', '10-', 'abc']);
    expect(report.builds?.ignored.find((f) => f.folder === 'abc')?.reason).toMatch(/no number prefix/);
  });

  it('the registry lists exactly the images that built, with digests and sizes', async () => {
    const result = await pcc(project, ['registry', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    digests = JSON.parse(result.stdout) as Repository[];
    expect(digests.map((r) => r.name).sort()).toEqual(['base', 'child', 'mybusybox', 'solo']);
    for (const repository of digests) {
      expect(repository.tags.map((t) => t.tag)).toContain('latest');
      expect(repository.tags.some((t) => t.tag.startsWith('src-'))).toBe(true);
      expect(repository.tags[0]?.digest).toMatch(/^sha256:/);
      expect(repository.tags[0]?.size).toBeGreaterThan(0);
    }
  });

  it('pcc build again skips every unchanged image and pushes nothing', async () => {
    const registry = async () => {
      const listed = await pcc(project, ['registry', '--json']);
      expect(listed.exitCode, listed.stderr).toBe(0);
      return JSON.parse(listed.stdout) as unknown;
    };
    const before = await registry();
    const result = await pcc(project, ['build', '--json']);
    const report = JSON.parse(result.stdout) as { results: BuildResult[] };
    const unchanged = report.results.filter((r) => r.reason === 'unchanged');
    expect(unchanged.map((r) => r.image).sort()).toEqual(['base', 'child', 'mybusybox', 'solo']);
    // Every tag still points at the manifest it had: nothing was built or pushed again.
    expect(await registry()).toEqual(before);
  });

  it('pcc init again changes nothing, and puts back a registry that was stopped', async () => {
    const stepOutcomes = (report: InitReport) => Object.fromEntries(report.setup.flatMap((host) => host.steps.map((step) => [step.step, step.outcome])));
    const again = JSON.parse((await pcc(project, ['init', '--json'])).stdout) as InitReport;
    const outcomes = stepOutcomes(again);
    expect(Object.keys(outcomes)).toEqual(expect.arrayContaining(['docker-storage', 'docker-engine', 'overlay', 'registry-access', 'registry-service', 'project-export']));
    expect(Object.values(outcomes).every((outcome) => outcome === 'unchanged'), JSON.stringify(outcomes)).toBe(true);

    await onHost(initContainer, 'docker stop pcc-registry >/dev/null');
    const repaired = JSON.parse((await pcc(project, ['init', '--json'])).stdout) as InitReport;
    expect(stepOutcomes(repaired)).toEqual({ ...outcomes, 'registry-service': 'changed' });
    expect(await onHost(initContainer, "docker inspect -f '{{.State.Running}}' pcc-registry")).toBe('true');
    const listed = await pcc(project, ['registry', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Repository[]).map((r) => r.name).sort()).toEqual(['base', 'child', 'mybusybox', 'solo']);
  });

  it('a compute host set up by pcc pulls $REGISTRY_HOST/child and runs it', async () => {
    const address = await initAddress();
    writeFileSync(path.join(project.root, 'config', 'hosts', 'compute.env'), `REGISTRY_HOST=${address}:5000\n`);
    expect((await pcc(project, ['up', 'vagrant', '--count', '1'])).exitCode).toBe(0);
    const setup = await pcc(project, ['setup', 'vagrant1', '--json']);
    const steps = (JSON.parse(setup.stdout) as { hosts: { steps: { step: string; outcome: string }[] }[] }).hosts[0]?.steps ?? [];
    expect(steps.filter((s) => s.step !== 'project-share').every((s) => s.outcome === 'changed' || s.outcome === 'unchanged')).toBe(true);
    const ran = await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', 'vagrant1',
      'bash -lc \'docker pull -q $REGISTRY_HOST/child >/dev/null && docker run --rm $REGISTRY_HOST/child\''], { reject: false, stdin: 'ignore' });
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('base');
  });

  it('serves the project folder over NFS both ways to the hosts over the overlay, root squashed to the owner', async () => {
    const compute = `pcc-${project.name}-vagrant1`;
    writeFileSync(path.join(project.root, 'from-laptop.txt'), 'written on the workstation\n');
    expect(await onHost(compute, `nfs-cat 'nfs://${INIT_OVERLAY}/project/from-laptop.txt?version=4'`)).toBe('written on the workstation');
    // nfs-cp runs as root on the host: the file is the project owner's, never root's.
    await onHost(compute, `echo written on a host > /tmp/w.txt && nfs-cp /tmp/w.txt 'nfs://${INIT_OVERLAY}/project/from-host.txt?version=4'`);
    expect(readFileSync(path.join(project.root, 'from-host.txt'), 'utf8')).toBe('written on a host\n');
    expect(statSync(path.join(project.root, 'from-host.txt')).uid).toBe(USER_UID);
  });

  it('never serves .pcc or config (the AWS keys), and admits only the hosts\' own overlay addresses', async () => {
    const compute = `pcc-${project.name}-vagrant1`;
    const listing = (folder: string) => execa('docker', ['exec', compute, 'nfs-ls', `nfs://${INIT_OVERLAY}/project/${folder}?version=4`], { reject: false });
    expect((await listing('')).stdout).toMatch(/from-laptop\.txt/);
    // Each is an empty read-only mount on init, which the server does not even enter.
    const hidden = { '.pcc': /state\.json|known_hosts|ssh|Vagrantfile/, config: /\.private|project\.env/ };
    for (const [folder, contents] of Object.entries(hidden)) {
      const listed = await listing(folder);
      expect(`${listed.stdout}${listed.stderr}`, folder).not.toMatch(contents);
    }
    expect(existsSync(path.join(project.root, 'config', 'project.env'))).toBe(true);
    const secret = await execa('docker', ['exec', compute, 'nfs-cat', `nfs://${INIT_OVERLAY}/project/config/.private?version=4`], { reject: false });
    expect(secret.exitCode).not.toBe(0);
    expect(`${secret.stdout}${secret.stderr}`).not.toContain(SECRET);
    // The workstation's files are untouched behind the hiding mounts on init.
    expect(readFileSync(path.join(project.root, 'config', '.private'), 'utf8')).toContain(SECRET);
    // Not a member's overlay address: init itself, and a host coming over the Docker bridge instead.
    const fromInit = await execa('docker', ['exec', initContainer, 'nfs-ls', `nfs://${INIT_OVERLAY}/project?version=4`], { reject: false });
    expect(fromInit.exitCode, fromInit.stdout).not.toBe(0);
    const overBridge = await execa('docker', ['exec', compute, 'nfs-ls', `nfs://${await initAddress()}/project?version=4`], { reject: false });
    expect(overBridge.exitCode, overBridge.stdout).not.toBe(0);
  });

  it('lists a catalog of more than a page (150 more repositories) whole', async () => {
    const base = `http://${await initAddress()}:5000`;
    const config = '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}';
    const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest },
      layers: [],
    });
    const names = Array.from({ length: 150 }, (_, i) => `pages/r${String(i).padStart(3, '0')}`);
    for (const name of names) {
      const upload = await http('POST', `${base}/v2/${name}/blobs/uploads/`);
      expect(upload.status).toBe(202);
      const location = new URL(upload.location ?? '', base);
      location.searchParams.set('digest', digest);
      expect((await http('PUT', location.toString(), config, { 'Content-Type': 'application/octet-stream' })).status).toBe(201);
      expect((await http('PUT', `${base}/v2/${name}/manifests/latest`, manifest, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' })).status).toBe(201);
    }
    const result = await pcc(project, ['registry', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const listed = (JSON.parse(result.stdout) as Repository[]).map((r) => r.name);
    expect(listed).toHaveLength(154);
    expect(listed).toEqual(expect.arrayContaining([...names, 'base', 'child', 'mybusybox', 'solo']));
  });

  it('destroying and re-creating init loses no image', async () => {
    const destroyed = await pcc(project, ['destroy', 'init', '--yes']);
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    expect(existsSync(path.join(project.root, '.pcc', 'registry', 'registry.btrfs'))).toBe(true);
    const again = JSON.parse((await pcc(project, ['init', '--json'])).stdout) as InitReport;
    const unchanged = again.builds?.results.filter((r) => r.reason === 'unchanged').map((r) => r.image).sort();
    expect(unchanged).toEqual(['base', 'child', 'mybusybox', 'solo']);
    const after = JSON.parse((await pcc(project, ['registry', '--json'])).stdout) as Repository[];
    for (const repository of digests) {
      expect(after.find((r) => r.name === repository.name)?.tags.find((t) => t.tag === 'latest')?.digest)
        .toBe(repository.tags.find((t) => t.tag === 'latest')?.digest);
    }
    expect(await onHost(initContainer, 'docker pull -q localhost:5000/child && docker run --rm localhost:5000/child')).toMatch(/base$/);
  });
});
