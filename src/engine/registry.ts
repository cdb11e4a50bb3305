import { request, type Agent } from 'node:http';
import { PccError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';

/** The registry as init's own engine names it (builds push there). */
export const INIT_REGISTRY = 'localhost:5000';

/** Manifest types pcc asks for: Docker's and OCI's, single images and indexes. */
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export interface TagInfo {
  tag: string;
  digest: string | undefined;
  /** Bytes of the image's config and layers, as the manifest states them. */
  size: number | undefined;
  /** When the image was built (its config's `created`); the registry records no push time. */
  created: string | undefined;
}

export interface RepositoryInfo {
  name: string;
  tags: TagInfo[];
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A client for the Docker registry HTTP API v2: catalog and tag lists (following Link pagination),
 * digests by HEAD with the manifest Accept headers, sizes from manifests. Every request has a
 * deadline, so an unreachable registry is a clear error, not a hang.
 */
export class RegistryClient {
  constructor(
    /** How the registry is named in messages (e.g. "init's registry at localhost:5000"). */
    readonly label: string,
    private readonly options: {
      host: string;
      port: number;
      agent?: Agent;
      /** Basic auth for every request (the registry's htpasswd login). */
      login?: { username: string; password: Secret };
      timeoutMs?: number;
      pageSize?: number;
    },
  ) {}

  async catalog(): Promise<string[]> {
    return this.#paged(`/v2/_catalog?n=${this.options.pageSize ?? 100}`, 'repositories');
  }

  /** A repository's tags; none for a repository the registry does not have. */
  async tags(repository: string): Promise<string[]> {
    return this.#paged(`/v2/${repository}/tags/list?n=${this.options.pageSize ?? 100}`, 'tags');
  }

  async digest(repository: string, tag: string): Promise<string | undefined> {
    const response = await this.#send('HEAD', `/v2/${repository}/manifests/${tag}`, { Accept: MANIFEST_ACCEPT });
    if (response.status === 404) return undefined;
    this.#expectOk(response, `manifest ${repository}:${tag}`);
    return header(response, 'docker-content-digest');
  }

  async tagInfo(repository: string, tag: string): Promise<TagInfo> {
    const response = await this.#send('GET', `/v2/${repository}/manifests/${tag}`, { Accept: MANIFEST_ACCEPT });
    this.#expectOk(response, `manifest ${repository}:${tag}`);
    const manifest = JSON.parse(response.body) as { config?: { digest: string; size: number }; layers?: { size: number }[] };
    const size = manifest.config && manifest.layers ? manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0) : undefined;
    let created: string | undefined;
    if (manifest.config) {
      const config = await this.#send('GET', `/v2/${repository}/blobs/${manifest.config.digest}`, {});
      if (config.status === 200) created = (JSON.parse(config.body) as { created?: string }).created;
    }
    return { tag, digest: header(response, 'docker-content-digest'), size, created };
  }

  /** Every repository with every tag's digest, size and build time. */
  async repositories(): Promise<RepositoryInfo[]> {
    const names = await this.catalog();
    return Promise.all(
      names.map(async (name) => ({ name, tags: await Promise.all((await this.tags(name)).sort().map((tag) => this.tagInfo(name, tag))) })),
    );
  }

  async #paged(firstPath: string, field: 'repositories' | 'tags'): Promise<string[]> {
    const items: string[] = [];
    for (let path: string | undefined = firstPath; path; ) {
      const response = await this.#send('GET', path, { Accept: 'application/json' });
      if (response.status === 404 && field === 'tags') return [];
      this.#expectOk(response, path);
      items.push(...(((JSON.parse(response.body) as Record<string, string[] | null>)[field]) ?? []));
      path = nextLink(header(response, 'link'));
    }
    return items;
  }

  #expectOk(response: Response, what: string): void {
    if (response.status < 200 || response.status >= 300) {
      throw new PccError(`${this.label}: ${what}: HTTP ${response.status} ${response.body.slice(0, 200).trim()}`);
    }
  }

  #send(method: string, path: string, headers: Record<string, string>): Promise<Response> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const { login } = this.options;
    if (login) headers = { ...headers, Authorization: `Basic ${Buffer.from(`${login.username}:${login.password.reveal()}`).toString('base64')}` };
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.options.host, port: this.options.port, path, method, headers, agent: this.options.agent, timeout: timeoutMs },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          res.on('error', reject);
        },
      );
      const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (error) =>
        reject(new PccError(`${this.label} is unreachable: ${error.message}`, { hint: 'Check that init runs (pcc status) and repair it with pcc init.' })),
      );
      req.end();
    });
  }
}

function header(response: Response, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The path of a `Link: </v2/...?last=x&n=100>; rel="next"` header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!match?.[1]) return undefined;
  const target = match[1];
  return target.startsWith('/') ? target : new URL(target).pathname + new URL(target).search;
}
