import { INIT_FOLDERS } from '../../providers/provider.js';
import { btrfsVolumeStep } from '../setup/docker-storage.js';

/** Where init mounts the registry's volume; the registry container keeps its data there. */
export const REGISTRY_DATA_DIR = '/var/lib/pcc-registry';

/**
 * The registry's data on a btrfs volume of VARLIBDOCKER_GB in a file on the user's disk (the
 * original's btrfs branch), so destroying and re-creating init loses no image.
 */
export const registryVolume = btrfsVolumeStep({
  id: 'registry-volume',
  title: 'Registry volume on the project disk',
  mountDir: REGISTRY_DATA_DIR,
  file: () => `${INIT_FOLDERS.registry}/registry.btrfs`,
  orderUnit: 'docker.service',
});
