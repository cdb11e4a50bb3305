import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromImages, scanImageFolders } from '../../src/engine/builds.js';
import { RegistryClient, nextLink } from '../../src/engine/registry.js';
import { tempDir } from '../helpers/project.js';

function dockerDir(folders: Record<string, string | null>): string {
  const dir = tempDir('pcc-docker-');
  for (const [folder, dockerfile] of Object.entries(folders)) {
    mkdirSync(path.join(dir, folder), { recursive: true });
    if (dockerfile !== null) writeFileSync(path.join(dir, folder, 'Dockerfile'), dockerfile);
  }
  return dir;
}

describe('image folders', () => {
  it('orders by the number as a number, ties by name, and lists malformed folders with reasons', () => {
    const dir = dockerDir({
      '10-b': 'FROM scratch\n',
      '2-a': 'FROM scratch\n',
      '010-aa': 'FROM scratch\n',
      abc: 'FROM scratch\n',
      '10-': 'FROM scratch\n',
      '007-x': null,
      '5-Bad_Name': 'FROM scratch\n',
    });
    writeFileSync(path.join(dir, 'README.md'), 'not a folder');
    const { images, ignored } = scanImageFolders(dir);
    expect(images.map((image) => image.folder)).toEqual(['2-a', '010-aa', '10-b']);
    expect(images.map((image) => image.name)).toEqual(['a', 'aa', 'b']);
    expect(ignored).toEqual([
      { folder: '007-x', reason: 'no Dockerfile in it' },
      { folder: '10-', reason: 'no image name after the number prefix' },
      { folder: '5-Bad_Name', reason: '"Bad_Name" is not a valid image name (lower-case letters and digits, separated by . _ or -)' },
      { folder: 'abc', reason: 'no number prefix: image folders are named NNN-name, e.g. 010-base' },
    ]);
  });

  it('finds dependencies in FROM lines, through ${REGISTRY_HOST}, localhost:5000 and plain names', () => {
    const dir = dockerDir({
      '1-base': 'FROM busybox:stable\n',
      '2-child': 'ARG REGISTRY_HOST\nFROM ${REGISTRY_HOST}/base AS build\nFROM build\n',
      '3-other': 'FROM localhost:5000/base:latest\nFROM child\n',
      '4-late': 'FROM zeta\n',
      '5-zeta': 'FROM scratch\n',
    });
    const { images, ignored } = scanImageFolders(dir);
    expect(Object.fromEntries(images.map((image) => [image.name, image.dependsOn]))).toEqual({ base: [], child: ['base'], other: ['base', 'child'], zeta: [] });
    expect(images.find((image) => image.name === 'base')?.bases).toEqual(['busybox:stable']);
    expect(ignored).toEqual([{ folder: '4-late', reason: 'FROM zeta, which comes later in build order: give it a smaller number' }]);
  });

  it('gives an image a new content hash when its folder or an image it is FROM changes', () => {
    const dir = dockerDir({ '1-base': 'FROM scratch\n', '2-child': 'FROM base\n' });
    const before = scanImageFolders(dir).images;
    writeFileSync(path.join(dir, '1-base', 'extra.txt'), 'x');
    const after = scanImageFolders(dir).images;
    expect(after[0]?.hash).not.toBe(before[0]?.hash);
    expect(after[1]?.hash).not.toBe(before[1]?.hash);
    expect(after[0]?.files).toEqual(['Dockerfile', 'extra.txt']);
  });

  it('reads FROM with flags, line continuations and stages', () => {
    expect(fromImages('FROM --platform=linux/amd64 \\\n  debian:12 AS one\nFROM one\nFROM scratch\n')).toEqual(['debian:12']);
  });
});

describe('registry client', () => {
  it('follows Link headers, relative or absolute', () => {
    expect(nextLink('</v2/_catalog?last=r099&n=100>; rel="next"')).toBe('/v2/_catalog?last=r099&n=100');
    expect(nextLink('<http://init:5000/v2/x/tags/list?last=b&n=2>; rel="next"')).toBe('/v2/x/tags/list?last=b&n=2');
    expect(nextLink(undefined)).toBeUndefined();
  });

  it('reports an unreachable registry clearly', async () => {
    const client = new RegistryClient('test registry', { host: '127.0.0.1', port: 1, timeoutMs: 2000 });
    await expect(client.catalog()).rejects.toThrow(/test registry is unreachable: .*ECONNREFUSED/);
  });

  it('gives up on a registry that never answers instead of hanging', async () => {
    const server = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const client = new RegistryClient('silent registry', { host: '127.0.0.1', port, timeoutMs: 300 });
    const started = Date.now();
    await expect(client.catalog()).rejects.toThrow(/silent registry is unreachable: no answer within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(3000);
    server.close();
  });
});
