import Docker from 'dockerode';

/**
 * Global setup of the integration tests: the fleet must be up. A missing fleet fails the run with the
 * command that brings it up; these tests never skip.
 */
export default async function requireFleet(): Promise<void> {
  const missing = ['DOCKER_HOST', 'VAGRANT_DOCKER_IMAGE', 'REGISTRY_IMAGE'].filter((key) => !process.env[key]);
  if (missing.length > 0) {
    throw new Error(
      `the test fleet is not configured (${missing.join(', ')} unset). ` +
        'Run the whole suite with `npm test`, or `set -a; eval "$(npm run -s fleet:up)"; set +a` before vitest.',
    );
  }
  const docker = new Docker({ timeout: 10_000 });
  try {
    await docker.ping();
    await docker.getImage(process.env.VAGRANT_DOCKER_IMAGE as string).inspect();
  } catch (error) {
    throw new Error(`the test fleet is not reachable at ${process.env.DOCKER_HOST}: ${(error as Error).message}. Run \`npm run fleet:up\`.`);
  }
}
