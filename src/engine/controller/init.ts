import type Docker from 'dockerode';
import { buildImages, type BuildReport, type BuildServices } from '../builds.js';
import { dockerFromEnv } from '../docker-client.js';
import { ensureImage } from '../docker-images.js';
import type { Engine } from '../engine.js';
import { mountShareAgain, resume, up } from '../lifecycle.js';
import { reconcile } from '../reconcile.js';
import { INIT_REGISTRY } from '../registry.js';
import { registryCredentials } from '../registry-credentials.js';
import { setupHosts, type HostSetupResult } from '../setup/setup.js';
import type { HostRecord } from '../state.js';
import { initDocker, initRegistry, requireInit } from './init-clients.js';
import { projectExport } from './project-export.js';
import { registryService } from './registry-service.js';
import { registryVolume } from './registry-volume.js';

/** init's own services, after its host steps (`hostSteps(config, 'init')`). */
export const INIT_SERVICE_STEPS = [registryVolume, registryService, projectExport];

export interface InitReport {
  setup: HostSetupResult[];
  builds: BuildReport | undefined;
  ok: boolean;
}

/**
 * `pcc init`: brings up the controller through the local provider (or resumes it), gives it the host
 * steps that apply, runs its registry and NFS share, then builds every image — as the original did
 * on boot. Running it again repairs what is missing and changes nothing else.
 */
export async function initController(engine: Engine): Promise<InitReport> {
  engine.events.emit({ type: 'task', task: 'init', phase: 'started', title: 'bring up init' });
  try {
    const { host, created } = await ensureInitRunning(engine);
    const hostSetup = await setupHosts(engine, [host], 'set up init');
    let services = hostSetup;
    let builds: BuildReport | undefined;
    if (hostSetup.ok) {
      const docker = initDocker(engine, host);
      await ensureImage(docker, engine.config.registry.image, localDocker(engine), 'init');
      services = await setupHosts(engine, [host], 'start init services', { steps: INIT_SERVICE_STEPS });
      // A resumed init has done this already; a new one serves the share for the first time.
      if (services.ok && created) await mountShareAgain(engine, []);
      if (services.ok) builds = await buildImages(engine, { docker, registry: initRegistry(engine, host), local: localDocker(engine), registryHost: INIT_REGISTRY, login: registryLogin(engine) });
    }
    const setup = [...hostSetup.hosts, ...(services === hostSetup ? [] : services.hosts)];
    const ok = hostSetup.ok && services.ok && (builds?.ok ?? false);
    engine.events.emit({ type: 'task', task: 'init', phase: ok ? 'succeeded' : 'failed', title: 'bring up init' });
    return { setup, builds, ok };
  } catch (error) {
    engine.events.emit({ type: 'task', task: 'init', phase: 'failed', title: 'bring up init', error: (error as Error).message });
    throw error;
  }
}

async function ensureInitRunning(engine: Engine): Promise<{ host: HostRecord; created: boolean }> {
  const existing = (await reconcile(engine)).find((host) => host.name === 'init');
  const created = !existing || existing.state === 'gone' || existing.state === 'not-created';
  if (created) {
    await up(engine, 'vagrant', { count: 1, computeType: 'cpu', role: 'init' });
  } else if (existing.state !== 'running' || !existing.ssh) {
    await resume(engine, 'init');
  }
  return { host: requireInit(engine), created };
}

/** `pcc build`: builds the project's images (all, or these and what they are FROM) on the running init. */
export async function buildOnInit(engine: Engine, names: string[] = []): Promise<BuildReport> {
  await reconcile(engine);
  const host = requireInit(engine);
  return buildImages(
    engine,
    { docker: initDocker(engine, host), registry: initRegistry(engine, host), local: localDocker(engine), registryHost: INIT_REGISTRY, login: registryLogin(engine) },
    { names },
  );
}

function registryLogin(engine: Engine): BuildServices['login'] {
  const { username, password } = registryCredentials(engine.config);
  return { username, password };
}

function localDocker(engine: Engine): Docker | undefined {
  try {
    return dockerFromEnv(engine.env, 60_000);
  } catch {
    return undefined;
  }
}
