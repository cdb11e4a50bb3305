import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.{ts,tsx}'],
          globalSetup: ['test/unit/throwaway-home.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.{ts,tsx}'],
          // Fails the whole run when the fleet is missing: integration tests never skip.
          globalSetup: ['test/integration/require-fleet.ts'],
          testTimeout: 180_000,
          // Machines share the fleet's engine and Vagrant's forwarded ports: one file at a time.
          fileParallelism: false,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
