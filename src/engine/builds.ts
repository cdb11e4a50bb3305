import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import PQueue from 'p-queue';
import { z } from 'zod';
import { writeFileAtomic } from '../core/files.js';
import { ensureImage, followStream } from './docker-images.js';
import type { Engine } from './engine.js';
import { PccError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import type { BuildPhase } from './events.js';
import type { RegistryClient } from './registry.js';

/** A `docker/NNN-name/` folder with a Dockerfile: one image to build. */
export interface ImageFolder {
  folder: string;
  order: number;
  /** Image name: the folder name without its number prefix. */
  name: string;
  dir: string;
  /** Files of the build context, relative to dir. */
  files: string[];
  /** Images named in FROM lines (after ARG REGISTRY_HOST is substituted), stages excluded. */
  bases: string[];
  /** Images built here that this one is FROM. */
  dependsOn: string[];
  /** Content hash of the folder and of the images it depends on. */
  hash: string;
}

export interface IgnoredFolder {
  folder: string;
  reason: string;
}

const IMAGE_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Lists the images to build: every folder named NNN-name that holds a Dockerfile, ordered by NNN as a
 * number (`2-a` before `10-b`), then by name. Other folders are listed as ignored, with the reason.
 */
export function scanImageFolders(dockerDir: string): { images: ImageFolder[]; ignored: IgnoredFolder[] } {
  const ignored: IgnoredFolder[] = [];
  const found: Omit<ImageFolder, 'dependsOn' | 'hash'>[] = [];
  if (!existsSync(dockerDir)) return { images: [], ignored };
  for (const folder of readdirSync(dockerDir).sort()) {
    const dir = path.join(dockerDir, folder);
    if (!statSync(dir).isDirectory()) continue;
    const match = /^(\d+)-(.*)$/.exec(folder);
    if (!match) {
      ignored.push({ folder, reason: 'no number prefix: image folders are named NNN-name, e.g. 010-base' });
      continue;
    }
    const name = match[2] ?? '';
    if (name === '') {
      ignored.push({ folder, reason: 'no image name after the number prefix' });
      continue;
    }
    if (!IMAGE_NAME.test(name)) {
      ignored.push({ folder, reason: `"${name}" is not a valid image name (lower-case letters and digits, separated by . _ or -)` });
      continue;
    }
    if (!existsSync(path.join(dir, 'Dockerfile'))) {
      ignored.push({ folder, reason: 'no Dockerfile in it' });
      continue;
    }
    const files = listFiles(dir);
    found.push({ folder, order: Number(match[1]), name, dir, files, bases: fromImages(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')) });
  }
  found.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));

  const names = new Set(found.map((image) => image.name));
  const images: ImageFolder[] = [];
  const byName = new Map<string, ImageFolder>();
  for (const image of found) {
    const dependsOn = [...new Set(image.bases.filter((base) => names.has(base)))];
    // An image can only wait for images that come before it in build order.
    const later = dependsOn.filter((name) => !byName.has(name));
    if (later.length > 0) {
      ignored.push({ folder: image.folder, reason: `FROM ${later.join(', ')}, which comes later in build order: give it a smaller number` });
      continue;
    }
    const hash = contentHash(image.dir, image.files, dependsOn.map((name) => byName.get(name)?.hash ?? ''));
    const complete = { ...image, dependsOn, hash };
    images.push(complete);
    byName.set(image.name, complete);
  }
  return { images, ignored };
}

/** FROM images of a Dockerfile, with `$REGISTRY_HOST/`, `localhost:5000/` and tags removed from names built here. */
export function fromImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const match = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!match?.[1]) continue;
    const ref = match[1];
    if (!stages.has(ref.toLowerCase()) && ref !== 'scratch') bases.push(localName(ref));
    if (match[2]) stages.add(match[2].toLowerCase());
  }
  return bases;
}

/** `${REGISTRY_HOST}/name:tag` or `localhost:5000/name` → `name`; other references stay whole. */
function localName(ref: string): string {
  const local = /^(?:\$\{?REGISTRY_HOST\}?|localhost:5000)\/([^:@/]+)(?:[:@].*)?$/.exec(ref);
  if (local?.[1]) return local[1];
  const bare = /^([^:@/]+)(?::latest)?$/.exec(ref);
  return bare?.[1] ?? ref;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = path.posix.join(prefix, entry.name);
      return entry.isDirectory() ? listFiles(dir, relative) : entry.isFile() ? [relative] : [];
    })
    .sort();
}

function contentHash(dir: string, files: string[], dependencyHashes: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(path.join(dir, file))).update('\0');
  }
  for (const dependency of dependencyHashes) hash.update(dependency);
  return hash.digest('hex').slice(0, 12);
}

export interface BuildResult {
  image: string;
  outcome: 'done' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
  durationMs: number;
  tags: string[];
}

export interface BuildReport {
  results: BuildResult[];
  ignored: IgnoredFolder[];
  ok: boolean;
}

export interface BuildServices {
  /** init's Docker engine. */
  docker: Docker;
  /** init's registry, to skip images whose content is already there. */
  registry: RegistryClient;
  /** The workstation's engine, to copy base images init cannot pull. */
  local?: Docker;
  /** The registry as init's engine names it. */
  registryHost: string;
  /** Its login, for pushes and for pulls of bases built here. */
  login: { username: string; password: Secret };
}

/**
 * Builds the project's images on init and pushes them to its registry, tagged `latest` and
 * `src-HASH`. Independent images build concurrently (bounded); an image waits for the images it is
 * FROM and is skipped, with the reason, when one of them failed. An image whose content hash is
 * already in the registry is skipped as unchanged.
 */
export async function buildImages(
  engine: Engine,
  services: BuildServices,
  options: { names?: string[]; concurrency?: number } = {},
): Promise<BuildReport> {
  const { images: all, ignored } = scanImageFolders(path.join(engine.config.root, 'docker'));
  const images = selectImages(all, options.names);
  const queue = new PQueue({ concurrency: options.concurrency ?? 3 });
  const outcomes = new Map<string, Promise<BuildResult>>();
  for (const image of images) emit(engine, image.name, 'queued');
  for (const image of images) {
    outcomes.set(
      image.name,
      (async () => {
        const started = Date.now();
        const dependencies = await Promise.all(image.dependsOn.map((name) => outcomes.get(name)));
        const broken = dependencies.find((result) => result && result.outcome === 'failed');
        const blocked = broken ?? dependencies.find((result) => result?.reason?.startsWith('FROM '));
        if (blocked) {
          return finish(engine, image, started, 'skipped', `FROM ${blocked.image}, which ${blocked.outcome === 'failed' ? 'failed' : 'was not built'}`);
        }
        return queue.add(() => buildOne(engine, services, image, started)) as Promise<BuildResult>;
      })(),
    );
  }
  const results = await Promise.all(images.map((image) => outcomes.get(image.name) as Promise<BuildResult>));
  const report = { results, ignored, ok: results.every((result) => result.outcome !== 'failed') };
  await recordBuild(engine.config.stateDir, { at: new Date().toISOString(), ok: report.ok, results });
  return report;
}

/** The last build run as `.pcc/builds.json` keeps it, so a fresh `pcc` shows it. */
export interface BuildRecord {
  at: string;
  ok: boolean;
  results: BuildResult[];
}

const buildRecordSchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  results: z.array(
    z.object({ image: z.string(), outcome: z.enum(['done', 'failed', 'skipped']), reason: z.string().optional(), durationMs: z.number(), tags: z.array(z.string()) }),
  ),
});

const buildRecordFile = (stateDir: string) => path.join(stateDir, 'builds.json');

async function recordBuild(stateDir: string, record: BuildRecord): Promise<void> {
  await writeFileAtomic(buildRecordFile(stateDir), `${JSON.stringify(record, null, 2)}\n`);
}

/** The last build run; undefined when there was none, or the file is not one pcc wrote (it is only a record). */
export function lastBuild(stateDir: string): BuildRecord | undefined {
  const file = buildRecordFile(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = buildRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? (parsed.data as BuildRecord) : undefined;
  } catch {
    return undefined;
  }
}

function selectImages(all: ImageFolder[], names: string[] | undefined): ImageFolder[] {
  if (!names || names.length === 0) return all;
  const known = new Map(all.map((image) => [image.name, image]));
  const wanted = new Set<string>();
  const add = (name: string) => {
    const image = known.get(name);
    if (!image) throw new PccError(`no image named ${name} in docker/`, { hint: `Images: ${[...known.keys()].join(', ') || 'none'}.`, exitCode: 2 });
    wanted.add(name);
    image.dependsOn.forEach(add);
  };
  names.forEach(add);
  return all.filter((image) => wanted.has(image.name));
}

async function buildOne(engine: Engine, services: BuildServices, image: ImageFolder, started: number): Promise<BuildResult> {
  const { docker, registry, registryHost, login } = services;
  const auth = { username: login.username, password: login.password.reveal(), serveraddress: registryHost };
  const repository = `${registryHost}/${image.name}`;
  const hashTag = `src-${image.hash}`;
  const tags = [`${repository}:latest`, `${repository}:${hashTag}`];
  try {
    if (await registry.digest(image.name, hashTag)) return finish(engine, image, started, 'skipped', 'unchanged', tags);
    emit(engine, image.name, 'building');
    for (const base of image.bases.filter((base) => !image.dependsOn.includes(base))) {
      const how = await ensureImage(docker, base, services.local, 'init');
      if (how !== 'present') output(engine, image.name, `base image ${base}: ${how}`);
    }
    const stream = await docker.buildImage(
      { context: image.dir, src: image.files },
      { t: `${repository}:latest`, buildargs: { REGISTRY_HOST: registryHost }, rm: true, forcerm: true, registryconfig: { [registryHost]: auth } },
    );
    await followStream(docker, stream, (event) => {
      for (const line of (event.stream ?? event.status ?? '').split('\n')) if (line.trim()) output(engine, image.name, line);
    });
    const built = docker.getImage(`${repository}:latest`);
    await built.tag({ repo: repository, tag: hashTag });
    // A plain `FROM name` in a later Dockerfile finds it too.
    await built.tag({ repo: image.name, tag: 'latest' });
    emit(engine, image.name, 'pushing');
    for (const tag of ['latest', hashTag]) {
      const push = await docker.getImage(repository).push({ tag, authconfig: auth });
      await followStream(docker, push, (event) => {
        if (event.status && !event.status.startsWith('Waiting')) output(engine, image.name, `${tag}: ${event.status}`);
      });
    }
    return finish(engine, image, started, 'done', undefined, tags);
  } catch (error) {
    return finish(engine, image, started, 'failed', (error as Error).message, tags);
  }
}

function finish(engine: Engine, image: ImageFolder, started: number, outcome: BuildResult['outcome'], reason?: string, tags: string[] = []): BuildResult {
  const durationMs = Date.now() - started;
  emit(engine, image.name, outcome, reason, durationMs);
  engine.logs.append(`build-${image.name}`, `${outcome}${reason ? `: ${reason}` : ''} (${(durationMs / 1000).toFixed(1)} s)`);
  return { image: image.name, outcome, ...(reason ? { reason } : {}), durationMs, tags };
}

function emit(engine: Engine, image: string, phase: BuildPhase, message?: string, durationMs?: number): void {
  engine.events.emit({ type: 'build', image, phase, ...(message ? { message } : {}), ...(durationMs === undefined ? {} : { durationMs }) });
}

function output(engine: Engine, image: string, line: string): void {
  engine.logs.append(`build-${image}`, line);
  engine.events.emit({ type: 'build.output', image, line });
}
