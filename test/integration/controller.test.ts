import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, pcc, privateDirOf, removeProjectContainers, type FleetProject } from '../helpers/pcc.js';

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

/** The registry login pcc made for the project (kept with its state; the tests read it to probe the registry). */
function registryPassword(project: FleetProject): string {
  return readFileSync(path.join(privateDirOf(project), 'registry-tls', 'login'), 'utf8').split('\n')[1] ?? '';
}

/** Pushes tiny images to init's registry from inside init (`test/helpers/registry-push.sh`). */
const PUSH_SCRIPT = readFileSync(path.resolve('test/helpers/registry-push.sh'), 'utf8');

describe('the controller init on the fleet', () => {
  const project = makeFleetProject('ctl');
  const initContainer = `pcc-${project.name}-init`;
  const onHost = async (container: string, command: string) => (await execa('docker', ['exec', container, 'bash', '-c', command])).stdout.trim();
  const initAddress = async () => (await execa('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', initContainer])).stdout.trim();
  let digests: Repository[] = [];
  /** What pcc printed in these tests: the registry password must appear in none of it. */
  const outputs: string[] = [];

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
    outputs.push(result.stdout, result.stderr);
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

    await onHost(initContainer, 'systemctl stop pcc-registry');
    const repaired = JSON.parse((await pcc(project, ['init', '--json'])).stdout) as InitReport;
    expect(stepOutcomes(repaired)).toEqual({ ...outcomes, 'registry-service': 'changed' });
    expect(await onHost(initContainer, "docker inspect -f '{{.State.Running}}' pcc-registry")).toBe('true');
    const listed = await pcc(project, ['registry', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Repository[]).map((r) => r.name).sort()).toEqual(['base', 'child', 'mybusybox', 'solo']);
  });

  it('a compute host set up by pcc pulls $REGISTRY_HOST/child over the overlay and runs it, as its login user', async () => {
    expect((await pcc(project, ['up', 'vagrant', '--count', '1'])).exitCode).toBe(0);
    const setup = await pcc(project, ['setup', 'vagrant1', '--json']);
    outputs.push(setup.stdout, setup.stderr);
    const steps = (JSON.parse(setup.stdout) as { hosts: { steps: { step: string; outcome: string }[] }[] }).hosts[0]?.steps ?? [];
    expect(steps.filter((s) => s.step !== 'project-share').every((s) => s.outcome === 'changed' || s.outcome === 'unchanged')).toBe(true);
    const ran = await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', 'vagrant1',
      'bash -lc \'echo $REGISTRY_HOST; docker pull -q $REGISTRY_HOST/child >/dev/null && docker run --rm $REGISTRY_HOST/child\''], { reject: false, stdin: 'ignore' });
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim().split('\n')).toEqual([`${INIT_OVERLAY}:5000`, 'base']);
  });

  it('the registry answers only HTTPS with its CA and only with the password, on the overlay and localhost only', async () => {
    const compute = `pcc-${project.name}-vagrant1`;
    const ca = `/etc/docker/certs.d/${INIT_OVERLAY}:5000/ca.crt`;
    const status = async (container: string, args: string, input = '') =>
      (await execa('docker', ['exec', '-i', container, 'bash', '-c', `curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${args}`], { input, reject: false })).stdout;
    expect(await status(compute, `--cacert ${ca} https://${INIT_OVERLAY}:5000/v2/`)).toBe('401');
    expect(await status(compute, `--cacert ${ca} -K - https://${INIT_OVERLAY}:5000/v2/_catalog`, `user = "pcc:${registryPassword(project)}"\n`)).toBe('200');
    expect(await status(compute, `--cacert ${ca} -K - https://${INIT_OVERLAY}:5000/v2/_catalog`, 'user = "pcc:guessed"\n')).toBe('401');
    // Plain HTTP is refused; a client without the project's CA does not get past TLS.
    expect(await status(compute, `http://${INIT_OVERLAY}:5000/v2/_catalog`)).toBe('400');
    expect(await status(compute, `https://${INIT_OVERLAY}:5000/v2/`)).toBe('000');
    // Not published on init's other addresses (the Docker bridge a host could come over).
    expect(await status(compute, `-k https://${await initAddress()}:5000/v2/`)).toBe('000');
    expect(await status(initContainer, `--cacert /etc/docker/certs.d/localhost:5000/ca.crt https://localhost:5000/v2/`)).toBe('401');
    // No insecure registry in Docker's configuration; a Docker client without pcc's login cannot push.
    expect(await onHost(compute, 'cat /etc/docker/daemon.json')).not.toContain('insecure-registries');
    const push = await execa('docker', ['exec', compute, 'bash', '-c', `docker tag $(docker images -q ${INIT_OVERLAY}:5000/child | head -1) ${INIT_OVERLAY}:5000/intruder && DOCKER_CONFIG=$(mktemp -d) docker push ${INIT_OVERLAY}:5000/intruder`], { reject: false });
    expect(push.exitCode).not.toBe(0);
    expect(push.stderr).toMatch(/no basic auth credentials|unauthorized/);
    // The login on hosts is root's alone.
    expect(await onHost(compute, 'stat -c %a:%U /etc/pcc/registry-login.json')).toBe('600:root');
    expect((await execa('docker', ['exec', '-u', 'nobody', compute, 'cat', '/etc/pcc/registry-login.json'], { reject: false })).exitCode).not.toBe(0);
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
    const hidden = { '.pcc': /project-id|registry|logs/, config: /\.private|project\.env/ };
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
    const names = Array.from({ length: 150 }, (_, i) => `pages/r${String(i).padStart(3, '0')}`);
    await execa('docker', ['exec', '-i', initContainer, 'bash', '-c', PUSH_SCRIPT], { input: `${registryPassword(project)}\n${names.join('\n')}\n` });
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

  it('the registry password is in no output, log or file but the logins kept for it', async () => {
    const password = registryPassword(project);
    expect(password.length).toBeGreaterThan(20);
    for (const output of outputs) expect(output).not.toContain(password);
    const local = await execa('grep', ['-rlF', '--', password, project.root, project.home], { reject: false });
    expect(local.stdout.split('\n').filter(Boolean)).toEqual([path.join(privateDirOf(project), 'registry-tls', 'login')]);
    const compute = `pcc-${project.name}-vagrant1`;
    const onCompute = await execa('docker', ['exec', '-i', compute, 'bash', '-c', 'grep -rlF -f - /etc /root /home /var/log /tmp'], { input: `${password}\n`, reject: false });
    expect(onCompute.stdout.split('\n').filter(Boolean)).toEqual(['/etc/pcc/registry-login.json']);
  });

  it("root on init finds none of pcc's keys, host pins, Vagrant's files or host records in the folders it syncs, even under the covers", async () => {
    const privateFiles = ['id_ed25519', 'private_key', 'Vagrantfile', 'machines.json', 'known_hosts', 'state.json', 'ca.key', 'login'];
    const caKeyLine = readFileSync(path.join(privateDirOf(project), 'registry-tls', 'ca.key'), 'utf8').split('\n')[1] ?? '';
    expect(caKeyLine.length).toBeGreaterThan(40);
    const search = [
      // What root could do: take away the read-only covers over .pcc and config.
      "findmnt -rn -o TARGET | grep '^/srv/pcc/' | grep -v '^/srv/pcc/[a-z]*$' | sort -r | xargs -r -n1 umount",
      `find /srv/pcc ${privateFiles.map((name) => `-name ${name}`).join(' -o ')}`,
      'grep -rlF -f - /srv/pcc || true',
    ].join('\n');
    const seen = await execa('docker', ['exec', '-i', initContainer, 'bash', '-c', search], { input: `${caKeyLine}\n` });
    expect(seen.stdout.trim()).toBe('');
    expect(await onHost(initContainer, 'ls -A /srv/pcc/project/.pcc')).toMatch(/project-id/);
  });
});
