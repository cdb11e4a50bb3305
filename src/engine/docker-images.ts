import type Docker from 'dockerode';
import { PccError } from '../core/errors.js';

/** A Docker progress stream's events, with any `error` event turned into a rejection. */
export function followStream(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: DockerEvent) => void = () => undefined): Promise<DockerEvent[]> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: DockerEvent[]) => {
        if (error) reject(error);
        else if (failure) reject(new PccError(failure));
        else resolve(output);
      },
      (event: DockerEvent) => {
        // The stream itself ends normally after an error: every event has to be checked.
        if (event.error || event.errorDetail) failure ??= (event.errorDetail?.message ?? event.error ?? 'unknown error').trim();
        onEvent(event);
      },
    );
  });
}

export interface DockerEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Makes sure `image` is in `target`'s image store: already there, pulled by the target, or copied
 * from the workstation's own engine (`local`) — so init works offline with images you have locally.
 */
export async function ensureImage(target: Docker, image: string, local: Docker | undefined, where: string): Promise<'present' | 'pulled' | 'copied'> {
  if (await hasImage(target, image)) return 'present';
  let pullError: string;
  try {
    await followStream(target, await target.pull(image));
    return 'pulled';
  } catch (error) {
    pullError = (error as Error).message;
  }
  if (local && (await hasImage(local, image))) {
    const archive = await local.getImage(image).get();
    await followStream(target, await target.loadImage(archive));
    if (await hasImage(target, image)) return 'copied';
  }
  throw new PccError(`${image} is not on ${where}: ${where} could not pull it (${pullError.split('\n')[0]}) and the local Docker engine does not have it`, {
    hint: `Make it reachable (docker pull ${image} here, or a registry ${where} can reach), or choose another image in config.`,
  });
}

async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}
