/**
 * bench/build: the image set below built by pcc on init (FROM-ordered, independent images
 * concurrently, streamed over SSH) beside the original's way — the same images one after another with
 * plain `docker build` + `docker push` on init — in one run, alternating, with no build cache either
 * side. Prints the ratio pcc/baseline (target ≤ 0.7×) and pcc's no-change rerun time.
 *
 * The images do what real ones spend their time on: waiting (as for a package mirror) and writing
 * layers that must be pushed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildImages, scanImageFolders } from '../src/engine/builds.js';
import { loadConfig } from '../src/core/config/load.js';
import { initController } from '../src/engine/controller/init.js';
import { initDocker, initRegistry, requireInit } from '../src/engine/controller/init-clients.js';
import { INIT_REGISTRY } from '../src/engine/registry.js';
import { registryCredentials } from '../src/engine/registry-credentials.js';
import { createEngine } from '../src/engine/engine.js';
import { destroy } from '../src/engine/lifecycle.js';
import { sshTarget } from '../src/engine/ssh/pool.js';
import { INIT_FOLDERS } from '../src/providers/provider.js';
import { fleetEnv, median, timed } from './fleet.js';

const ROUNDS = 3;
/** A step of its own per image (no image can reuse another's build cache): a wait, then 8 MB to push. */
const work = (name: string) => `COPY round.txt /round.txt\nRUN echo ${name} && sleep 1 && dd if=/dev/urandom of=/payload bs=1M count=8 status=none`;
const IMAGES: Record<string, string> = {
  '010-base': `FROM busybox:stable\n${work('base')}\n`,
  '020-child': `ARG REGISTRY_HOST\nFROM \${REGISTRY_HOST}/base\n${work('child')}\n`,
  '030-tools': `FROM busybox:stable\n${work('tools')}\n`,
  '040-data': `FROM busybox:stable\n${work('data')}\n`,
  '050-web': `FROM busybox:stable\n${work('web')}\n`,
  '060-solo': 'FROM scratch\nCOPY round.txt /round.txt\n',
};

await fleetEnv();
const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-'));
const root = path.join(base, 'benchbuild');
const home = path.join(base, 'home');
mkdirSync(path.join(root, 'config'), { recursive: true });
mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
writeFileSync(path.join(root, 'config', 'project.env'),
  `PROJECT_NAME=benchbuild${process.pid}\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\nREGISTRY_IMAGE=${process.env.REGISTRY_IMAGE}\nVARLIBDOCKER_GB=4\n`);
/** A new round.txt in every folder: new content hashes (pcc skips nothing) and the same files for both. */
function writeImages(round: number): void {
  for (const [folder, dockerfile] of Object.entries(IMAGES)) {
    mkdirSync(path.join(root, 'docker', folder), { recursive: true });
    writeFileSync(path.join(root, 'docker', folder, 'Dockerfile'), dockerfile);
    writeFileSync(path.join(root, 'docker', folder, 'round.txt'), `${round}\n`);
  }
}
const env = { ...process.env, HOME: home, VAGRANT_PROVIDER: undefined, VAGRANT_DOCKER_IMAGE: undefined, REGISTRY_IMAGE: undefined };
const engine = createEngine(loadConfig(root, env), { env, home });
writeImages(0);
const names = scanImageFolders(path.join(root, 'docker')).images.map((image) => image.name);
try {
  const report = await initController(engine);
  if (!report.ok) throw new Error(`pcc init failed: ${JSON.stringify(report.builds?.results ?? report.setup)}`);
  const host = requireInit(engine);
  const target = sshTarget(host);
  const { username, password } = registryCredentials(engine.config);
  const services = { docker: initDocker(engine, host), registry: initRegistry(engine, host), registryHost: INIT_REGISTRY, login: { username, password } };
  const run = async (command: string) => {
    const result = await engine.ssh.exec(target, command, { quiet: true });
    if (result.code !== 0) throw new Error(`${command}: ${result.stderr}`);
  };
  /** No build cache for the next builder: remove what both built (with their layers) and the builder cache. */
  const forget = () =>
    run(`docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(localhost:5000/|(${names.join('|')}):)' | xargs -r docker rmi -f >/dev/null; docker builder prune -af >/dev/null 2>&1 || true`);

  const pcc: number[] = [];
  const baseline: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    writeImages(round);
    await forget();
    baseline.push(await timed(async () => {
      const result = await engine.ssh.exec(target, `DOCKER_DIR=${INIT_FOLDERS.project}/docker PREFIX=baseline${round}- bash -s`, {
        quiet: true,
        stdin: readFileSync(new URL('build-baseline.sh', import.meta.url), 'utf8'),
      });
      if (result.code !== 0) throw new Error(`baseline failed: ${result.stderr}`);
    }));
    await forget();
    pcc.push(await timed(async () => {
      const result = await buildImages(engine, services);
      if (!result.ok || result.results.some((r) => r.outcome !== 'done')) throw new Error(`pcc build failed: ${JSON.stringify(result.results)}`);
    }));
  }
  const rerun = await timed(async () => {
    const result = await buildImages(engine, services);
    if (!result.results.every((r) => r.reason === 'unchanged')) throw new Error('the rerun rebuilt something');
  });
  const ratio = median(pcc) / median(baseline);
  console.log(`\nbench/build — ${names.length} images (${names.join(', ')}), ${ROUNDS} rounds, no build cache`);
  console.log(`pcc build (median)             ${median(pcc).toFixed(2)} s   rounds: ${pcc.map((s) => s.toFixed(2)).join(', ')}`);
  console.log(`docker build + push, in order  ${median(baseline).toFixed(2)} s   rounds: ${baseline.map((s) => s.toFixed(2)).join(', ')}`);
  console.log(`pcc/baseline                   ${ratio.toFixed(2)}×   target ≤ 0.7×${ratio > 0.7 ? '  (over)' : ''}`);
  console.log(`no-change rerun                ${rerun.toFixed(2)} s`);
} finally {
  await destroy(engine, 'all').catch((error: Error) => console.error(`cleanup: ${error.message}`));
  engine.ssh.closeAll();
  rmSync(base, { recursive: true, force: true });
}
