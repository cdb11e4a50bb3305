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
      {
        test: {
          name: 'libvirt',
          include: ['test/libvirt/**/*.test.ts'],
          globalSetup: ['test/libvirt/require-libvirt.ts'],
          // Machines under software emulation: minutes per boot, and one fleet at a time.
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
