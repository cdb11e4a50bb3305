import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { EC2Client, ModifyVolumeCommand } from '@aws-sdk/client-ec2';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { ensurePccKey } from '../../src/core/ssh-key.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { up } from '../../src/engine/lifecycle.js';
import { setup } from '../../src/engine/setup/setup.js';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.js';
import { awsError, FakeEc2 } from '../helpers/fake-ec2.js';
import { startFleetMachine, type FleetMachine } from '../helpers/fleet.js';
import { makeProject, tempDir } from '../helpers/project.js';

const GIB = 1024 ** 3;

/**
 * A raised VARLIBDOCKER_GB on an EC2 host, end to end: the host is a real fleet machine whose root
 * filesystem is a partition on a real (loop) disk; the fake AWS grows that disk when
 * ModifyVolume's new size takes effect, as EBS grows the NVMe disk an instance sees. Setup must then
 * grow the partition (growpart), its filesystem and the btrfs volume, keeping its data.
 */
describe('EC2 disk: a larger VARLIBDOCKER_GB grows the root volume, its partition and filesystem, then the Docker volume', () => {
  const label = Math.random().toString(36).slice(2, 7);
  let machine: FleetMachine;
  let fake: FakeEc2;
  let root: string;
  let home: string;
  let disk: string;
  let engine: Engine | undefined;
  let id: string;
  const events: EngineEvent[] = [];
  const onMachine = async (command: string) => (await execa('docker', ['exec', machine.id, 'bash', '-euc', command])).stdout.trim();

  /** The project as a run with this VARLIBDOCKER_GB sees it: its own engine, the same AWS and state. */
  function engineWith(gb: number): Engine {
    engine?.ssh.closeAll();
    const config = loadConfig(root, { HOME: home, VARLIBDOCKER_GB: String(gb) });
    const provider = new Ec2Provider(config, {}, { client: fake.client, retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 }, wait: { minDelay: 0.01, maxDelay: 0.02 } });
    engine = createEngine(config, { env: { ...process.env, HOME: home }, home, providers: [provider] });
    engine.events.subscribe((event) => events.push(event));
    return engine;
  }

  async function storageStep(gb: number) {
    const from = events.length;
    const summary = await setup(engineWith(gb), 'ec2', { only: ['docker-storage'] });
    const step = summary.hosts[0]?.steps[0];
    return { step, warnings: events.slice(from).flatMap((event) => (event.type === 'log' && event.level === 'warn' ? [event.message] : [])) };
  }

  beforeAll(async () => {
    // Partitions of loop disks are block devices of major 259 (blkext), which a VM has and this machine may use.
    machine = await startFleetMachine(`pcc-disk-${label}`, ['--device-cgroup-rule', 'b 259:* rmw']);
    // The instance's root disk: one GPT partition filling a 1.6 GB disk, mounted at /rootdisk. XFS, as on
    // Amazon Linux: growing ext4 while mounted (Ubuntu's images) needs CAP_SYS_RESOURCE, which root on
    // the test machines lacks; the two differ only in the command that grows the filesystem.
    // The container sees no udev, so the partition's device node is made from what the kernel reports.
    disk = await onMachine(`
      truncate -s 1600M /disk.img
      printf 'label: gpt\\n,,L\\n' | sfdisk -q /disk.img
      dev=$(losetup -P -f --show /disk.img)
      partx -a "$dev" 2>/dev/null || true
      n=$(basename "$dev")
      [ -e "\${dev}p1" ] || mknod "\${dev}p1" b $(tr : ' ' < /sys/class/block/\${n}p1/dev)
      mkfs.xfs -q "\${dev}p1"
      mkdir -p /rootdisk && mount "\${dev}p1" /rootdisk
      echo "$dev"`);
    root = makeProject({
      'project.env': `PROJECT_NAME=disk${label}\nAWS_REGION=eu-west-1\nEC2_SSH_USER=vagrant\nEC2_SSH_CIDRS=203.0.113.7/32\nVARLIBDOCKER_FILE=/rootdisk/docker.btrfs\n`,
      '.private': 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=not-a-real-secret\n',
    });
    home = tempDir('pcc-home-');
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const key = ensurePccKey(loadConfig(root, { HOME: home }).privateDir, `pcc-disk${label}`);
    await onMachine(`install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh && echo '${key.publicKey}' >> /home/vagrant/.ssh/authorized_keys && chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys`);
    fake = new FakeEc2(new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'not-a-real-secret' } }));
    fake.addresses = [machine.address];
    // EBS's new size reaches the instance as a larger disk; its partition and filesystem stay as they were.
    fake.onResize = async (_volume, from, to) => void (await onMachine(`truncate -s +${to - from}G /disk.img && losetup -c ${disk}`));
    const [host] = await up(engineWith(1), 'ec2', { count: 1, computeType: 'cpu' });
    id = host?.name ?? '';
  }, 120_000);

  afterAll(async () => {
    engine?.ssh.closeAll();
    // Loop devices belong to the kernel, not the container: release them before it goes.
    if (machine) await onMachine(`umount /var/lib/docker 2>/dev/null || true; umount /rootdisk 2>/dev/null || true; losetup -d ${disk} 2>/dev/null || true`).catch(() => undefined);
    await machine?.remove();
  });

  const partitionBytes = async () => Number(await onMachine(`echo $(( $(cat /sys/class/block/$(basename ${disk})p1/size) * 512 ))`));
  const volumeBytes = async () => Number(await onMachine("btrfs filesystem show --raw /var/lib/docker | awk '/devid/ {print $4}'"));

  it('setup makes the 1 GiB volume on the root filesystem', async () => {
    const { step } = await storageStep(1);
    expect(step).toMatchObject({ step: 'docker-storage', outcome: 'changed' });
    expect(await volumeBytes()).toBe(GIB);
    await onMachine('echo kept > /var/lib/docker/data-before-growth');
    // The system's own files take most of what is left (the volume file is sparse and takes little).
    await onMachine('fallocate -l 900M /rootdisk/system-files');
  }, 120_000);

  it('raising it while AWS refuses to grow the disk: a warning that says why, then the step refuses with the free space, and nothing changes', async () => {
    const partition = await partitionBytes();
    fake.failNext(ModifyVolumeCommand, awsError('VolumeModificationRateExceeded', "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume."));
    const { step, warnings } = await storageStep(2);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${id}: its root disk vol-\\w+ could not grow from 9 to 10 GiB for VARLIBDOCKER_GB=2: .*6 hours[\\s\\S]*at most once every 6 hours`))]);
    expect(step).toMatchObject({ outcome: 'failed', message: expect.stringMatching(/not enough free disk for \/rootdisk\/docker\.btrfs: it needs 1\.0 GiB, the filesystem has 0\.\d GiB free/) });
    expect(await volumeBytes()).toBe(GIB);
    expect(await partitionBytes()).toBe(partition);
  }, 120_000);

  it('with AWS willing: ModifyVolume, then growpart and xfs_growfs on the host, then the volume grows to 2 GiB with its data', async () => {
    const partition = await partitionBytes();
    const { step } = await storageStep(2);
    expect(fake.inputs(ModifyVolumeCommand).at(-1)).toMatchObject({ Size: 8 + 2 });
    expect(step).toMatchObject({
      outcome: 'changed',
      changes: [expect.stringMatching(new RegExp(`^grow ${disk}p1 and its xfs filesystem by 1\\.0 GiB into its disk$`)), 'grow the volume from 1 to 2 GiB'],
    });
    expect(await partitionBytes()).toBeGreaterThan(partition + 0.99 * GIB);
    expect(Number(await onMachine('df -B1 --output=size /rootdisk | tail -1'))).toBeGreaterThan(2 * GIB);
    expect(await volumeBytes()).toBe(2 * GIB);
    expect(await onMachine('cat /var/lib/docker/data-before-growth')).toBe('kept');
  }, 120_000);

  it('a rerun changes nothing, in AWS or on the host', async () => {
    const { step } = await storageStep(2);
    expect(step).toMatchObject({ outcome: 'unchanged' });
    expect(fake.inputs(ModifyVolumeCommand)).toHaveLength(2);
  }, 120_000);
});
