import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import { listImages, removeImages } from '../../engine/lifecycle.js';
import type { Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson } from '../io.js';

export const imagesCommand: Command = {
  name: 'images',
  usage: 'pcc images [rm IMAGE...] [--json]',
  summary: 'list the images hosts were saved as (pcc save --image); rm deletes them and their storage',
  details: 'Removing an image loses the host saved as it. Images are billed for their snapshots until removed.',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, project: { type: 'string' } },
    });
    const [action, ...ids] = positionals;
    if (action !== undefined && action !== 'rm') throw new UsageError(`unknown images action: ${action}`, `Usage: ${this.usage}`);
    if (action === 'rm' && ids.length === 0) throw new UsageError('expected the images to remove', `Usage: ${this.usage}`);
    const engine = openEngine(io, values.project);
    if (action === 'rm') {
      await removeImages(engine, ids);
      if (values.json) printJson(io, { removed: ids });
      else print(io.stdout, `removed: ${ids.join(', ')}`);
      return 0;
    }
    const images = await listImages(engine);
    if (values.json) printJson(io, images);
    else if (images.length === 0) print(io.stdout, 'no saved images — pcc save PATTERN --image makes one');
    else {
      for (const image of images) {
        const size = image.sizeGb === undefined ? '-' : `${image.sizeGb} GiB`;
        print(io.stdout, `${image.id}  ${image.provider}  host ${image.host} (${image.computeType})  ${image.state}  ${size}  ${image.createdAt ?? ''}`.trimEnd());
      }
    }
    return 0;
  },
};
