import { isIPv4 } from 'node:net';
import { z } from 'zod';

/**
 * Every configuration key pcc reads: the file it belongs in, its default, what it accepts and what it
 * means. The README's configuration table and the loader's error messages both come from here.
 */
export interface KeySpec<T> {
  /** The file the key belongs in, relative to config/. */
  file: ConfigFile;
  /** Parses the raw string; an error's message says what is accepted. */
  schema: z.ZodType<T, string>;
  default: string | undefined;
  /** What the key means, for documentation and `pcc config`. */
  doc: string;
  /** Shown in place of the value wherever config is printed. */
  secret?: boolean;
}

export type ConfigFile = 'project.env' | 'hosts/global.env' | 'hosts/init.env' | 'hosts/compute.env' | '.private';

const wholeNumber = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected ${what}: a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected ${what}: a whole number from ${min} to ${max}`);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of: ${values.join(', ')}` });

const nonEmpty = (what: string) => z.string().trim().min(1, `expected ${what}, not an empty value`);

const hostname = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** host:port as Docker names a registry: no scheme, no path. */
const registryHost = z.string().refine((value) => {
  const match = /^(.+):(\d{1,5})$/.exec(value) ?? [value, value, undefined];
  const host = match[1] ?? '';
  const port = match[2] === undefined ? 443 : Number(match[2]);
  return (hostname.test(host) || isIPv4(host)) && port >= 1 && port <= 65535;
}, 'expected host:port with no scheme or path, e.g. 10.128.0.1:5000');

const address = z.string().refine((value) => hostname.test(value) || isIPv4(value), 'expected a host name or an IPv4 address');

const ipv4Cidr = (what: string, maxPrefix: number) =>
  z.string().refine((value) => {
    const [ip, prefix, ...rest] = value.split('/');
    return (
      rest.length === 0 &&
      ip !== undefined &&
      isIPv4(ip) &&
      prefix !== undefined &&
      /^\d+$/.test(prefix) &&
      Number(prefix) <= maxPrefix
    );
  }, `expected ${what} in CIDR form, e.g. 10.128.0.0/16 (prefix at most /${maxPrefix})`);

const cidrList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(ipv4Cidr('each entry', 32)).min(1, 'expected at least one CIDR, e.g. 203.0.113.7/32'));

/** `name=price` pairs: an instance type (or ebs, snapshot) and a price in USD. */
const priceList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().regex(/^([a-z0-9-]+\.[a-z0-9]+|ebs|snapshot)=\d+(\.\d+)?$/, 'expected name=price pairs, e.g. g5.xlarge=0.95,ebs=0.09 (USD; no currency sign)'))
      .min(1, 'expected at least one name=price pair, e.g. g5.xlarge=0.95'),
  )
  .transform((pairs) => Object.fromEntries(pairs.map((pair) => [pair.split('=')[0] ?? '', Number(pair.split('=')[1])])));

/** Private and shared address space (RFC 1918, RFC 6598): what a share may be exported to, never beyond. */
const PRIVATE_RANGES: [base: number, prefix: number][] = [
  [ipNumber('10.0.0.0'), 8],
  [ipNumber('172.16.0.0'), 12],
  [ipNumber('192.168.0.0'), 16],
  [ipNumber('100.64.0.0'), 10],
];

function ipNumber(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Whether a CIDR lies wholly inside one private range (so no split like 0.0.0.0/1,128.0.0.0/1 reaches the world). */
function insidePrivateRange(cidr: string): boolean {
  const [ip = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  return PRIVATE_RANGES.some(([base, rangePrefix]) => prefix >= rangePrefix && Math.floor(ipNumber(ip) / 2 ** (32 - rangePrefix)) === Math.floor(base / 2 ** (32 - rangePrefix)));
}

export const PROVIDERS = ['vagrant', 'ec2'] as const;
export const VAGRANT_BACKENDS = ['virtualbox', 'libvirt', 'docker'] as const;
export const SYNCED_FOLDER_TYPES = ['nfs', 'rsync', 'smb', 'virtualbox', '9p', 'virtiofs'] as const;

export const KEYS = {
  // project.env
  PROJECT_NAME: {
    file: 'project.env',
    schema: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, 'expected lower-case letters, digits and -, at most 40 characters'),
    default: undefined,
    doc: 'Name of this project in tags, SSH aliases and state. Default: the project folder name.',
  },
  PROJECT_DIR: {
    file: 'project.env',
    schema: nonEmpty('a folder'),
    default: '.',
    doc: 'The folder served to every host at /project, relative to the project root.',
  },
  VARLIBDOCKER_GB: {
    file: 'project.env',
    schema: wholeNumber('a size in GiB', 1, 16384),
    default: '10',
    doc: 'Size of the btrfs volume behind /var/lib/docker on each host and of the registry volume.',
  },
  VARLIBDOCKER_FILE: {
    file: 'project.env',
    schema: z.string().regex(/^\/[^\s]+$/, 'expected an absolute path on the host without spaces'),
    default: '/var/lib/docker.btrfs',
    doc: 'Loop file on each host that holds the btrfs volume for /var/lib/docker.',
  },
  DEFAULT_PROVIDER: {
    file: 'project.env',
    schema: oneOf(PROVIDERS),
    default: 'vagrant',
    doc: 'Provider used when a command names none; `pcc doctor` fails when it cannot work.',
  },
  VAGRANT_PROVIDER: {
    file: 'project.env',
    schema: oneOf(VAGRANT_BACKENDS),
    default: 'virtualbox',
    doc: "Vagrant's backend for init and local compute machines.",
  },
  LIBVIRT_DRIVER: {
    file: 'project.env',
    schema: oneOf(['auto', 'kvm', 'qemu'] as const),
    default: 'auto',
    doc: "libvirt's domain type for new machines: kvm (hardware virtualisation), qemu (TCG, software emulation: slow, works anywhere) or auto (KVM where a bounded probe shows it works; `pcc doctor` says which and why).",
  },
  VAGRANT_BOX: {
    file: 'project.env',
    schema: nonEmpty('a Vagrant box name'),
    default: 'bento/ubuntu-24.04',
    doc: 'Box for the virtualbox and libvirt backends.',
  },
  VAGRANT_DOCKER_IMAGE: {
    file: 'project.env',
    schema: nonEmpty('a Docker image name'),
    default: undefined,
    doc: 'Image for the docker backend: a machine image with systemd and sshd (`npm run fleet:up` builds one).',
  },
  DOCKER_HOST: {
    file: 'project.env',
    schema: z.string().regex(/^(unix|tcp|ssh|npipe|fd):\/\/\S+$/, 'expected a Docker engine address such as unix:///run/docker.sock, tcp://HOST:2376 or ssh://USER@HOST'),
    default: undefined,
    doc: "This machine's Docker engine for the docker backend and local image copies; as Docker's own DOCKER_HOST (an environment variable of that name wins). Default: Docker's default socket.",
  },
  VAGRANT_SYNCED_FOLDER_TYPE: {
    file: 'project.env',
    schema: oneOf(SYNCED_FOLDER_TYPES),
    default: undefined,
    doc: "How init gets the project folder (Vagrant synced folder type); unset: nfs on virtualbox (its own shared folders cannot be served over NFS again; needs an NFS server on this machine), virtiofs on libvirt (no server needed here), the backend's default elsewhere.",
  },
  VAGRANT_CPUS: {
    file: 'project.env',
    schema: wholeNumber('a CPU count', 1, 256),
    default: '2',
    doc: 'CPUs of each local machine (virtualbox, libvirt).',
  },
  VAGRANT_MEMORY_MB: {
    file: 'project.env',
    schema: wholeNumber('a memory size in MiB', 256, 1048576),
    default: '2048',
    doc: 'Memory of each local machine (virtualbox, libvirt).',
  },
  REGISTRY_IMAGE: {
    file: 'project.env',
    schema: nonEmpty('a Docker image name'),
    default: 'registry:3',
    doc: 'Image the registry on init runs (the official distribution image by default).',
  },
  AWS_REGION: {
    file: 'project.env',
    schema: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'expected an AWS region name, e.g. us-east-1'),
    default: undefined,
    doc: "AWS region; unset: the SDK's default chain (AWS_REGION, ~/.aws/config).",
  },
  EC2_INSTANCE_TYPE_CPU: {
    file: 'project.env',
    schema: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'expected an EC2 instance type, e.g. c7i.2xlarge'),
    default: 'c7i.2xlarge',
    doc: 'Instance type of `pcc up ec2 --type cpu`.',
  },
  EC2_INSTANCE_TYPE_GPU: {
    file: 'project.env',
    schema: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'expected an EC2 instance type, e.g. g5.xlarge'),
    default: 'g5.xlarge',
    doc: 'Instance type of `pcc up ec2 --type gpu`.',
  },
  EC2_AMI_CPU: {
    file: 'project.env',
    schema: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'expected an AMI id, e.g. ami-0abcdef1234567890'),
    default: undefined,
    doc: 'AMI of cpu machines; unset: the newest Ubuntu 24.04 LTS image from Canonical.',
  },
  EC2_AMI_GPU: {
    file: 'project.env',
    schema: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'expected an AMI id, e.g. ami-0abcdef1234567890'),
    default: undefined,
    doc: "AMI of gpu machines; unset: the newest AWS Deep Learning Base (NVIDIA driver) Ubuntu image.",
  },
  EC2_SSH_USER: {
    file: 'project.env',
    schema: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'expected a user name'),
    default: 'ubuntu',
    doc: 'Login user of the EC2 images.',
  },
  EC2_PRICES: {
    file: 'project.env',
    schema: priceList,
    default: undefined,
    doc: 'Prices that replace the bundled table, e.g. `g5.xlarge=0.95,ebs=0.09`: instance types in USD per hour, `ebs` (disks) and `snapshot` (saved images) in USD per GB-month.',
  },
  SAVED_IMAGE_WARN_DAYS: {
    file: 'project.env',
    schema: wholeNumber('days', 1, 3650),
    default: '30',
    doc: '`pcc doctor` and the status line warn about hosts saved as images longer ago than this: their snapshots bill every month.',
  },
  EC2_SSH_CIDRS: {
    file: 'project.env',
    schema: cidrList,
    default: undefined,
    doc: 'Comma list of CIDRs admitted to SSH and the overlay port of EC2 hosts, e.g. your address/32; required for EC2 (0.0.0.0/0 admits anyone).',
  },

  // hosts/*.env: what hosts are told; init.env and compute.env override global.env for their role.
  REGISTRY_HOST: {
    file: 'hosts/global.env',
    schema: registryHost,
    default: '10.128.0.1:5000',
    doc: 'Registry address as hosts reach it, exported as $REGISTRY_HOST (init itself: localhost:5000).',
  },
  NFS_SERVER: {
    file: 'hosts/global.env',
    schema: address,
    default: '10.128.0.1',
    doc: 'Server of the /project share (init on the overlay by default).',
  },
  NFS_EXPORT: {
    file: 'hosts/global.env',
    // It is written into the NFS server's configuration: plain path characters only.
    schema: z
      .string()
      .regex(/^(\/[A-Za-z0-9._-]+)+$/, 'expected an absolute export path of letters, digits, . _ and -, e.g. /project')
      .refine((value) => !value.split('/').some((part) => part === '.' || part === '..'), 'expected a path without . or .. parts'),
    default: '/project',
    doc: 'Path the NFS server exports the project folder as.',
  },
  NFS_CLIENTS: {
    file: 'hosts/global.env',
    schema: cidrList.refine(
      (list) => list.every(insidePrivateRange),
      'the share is exported only inside private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10), e.g. the overlay subnet',
    ),
    default: undefined,
    doc: "Comma list of CIDRs the share is exported to; unset: each host's own overlay address. Never the world.",
  },
  NFS_OPTS: {
    file: 'hosts/global.env',
    schema: z.string().regex(/^[A-Za-z0-9_=.,:/-]*$/, 'expected mount options such as vers=4.2,hard,timeo=600'),
    default: '',
    doc: 'Mount options for /project; empty: vers=4.2,hard,timeo=600,retrans=2,noatime.',
  },
  OVERLAY_DRIVER: {
    file: 'hosts/global.env',
    schema: oneOf(['wireguard', 'weave'] as const),
    default: 'wireguard',
    doc: 'Overlay network driver.',
  },
  OVERLAY_SUBNET: {
    file: 'hosts/global.env',
    schema: ipv4Cidr('the overlay subnet', 30),
    default: '10.128.0.0/16',
    doc: 'Subnet of host overlay addresses; init takes its first address (10.128.0.1).',
  },
  OVERLAY_CONTAINER_RANGE: {
    file: 'hosts/global.env',
    schema: ipv4Cidr('the container range', 24),
    default: '10.128.128.0/17',
    doc: "Range carved into one /24 per host for that host's containers.",
  },
  OVERLAY_PORT: {
    file: 'hosts/global.env',
    schema: wholeNumber('a UDP port', 1, 65535),
    default: '51820',
    doc: 'UDP port of the overlay.',
  },
  OVERLAY_MTU: {
    file: 'hosts/global.env',
    schema: wholeNumber('an MTU', 1280, 9000),
    default: '1420',
    doc: 'MTU of the overlay interface.',
  },
  IDLE_STOP_MINUTES: {
    file: 'hosts/global.env',
    schema: wholeNumber('minutes', 1, 10080),
    default: undefined,
    doc: 'Compute hosts power themselves off after this many minutes with no SSH session, no running container and no busy GPU; unset: never.',
  },
  IDLE_STOP_GPU_PERCENT: {
    file: 'hosts/global.env',
    schema: wholeNumber('a percentage', 0, 100),
    default: '5',
    doc: 'A GPU busier than this (nvidia-smi utilization) keeps its host up.',
  },
  IDLE_STOP_MINUTE_SECONDS: {
    file: 'hosts/global.env',
    schema: wholeNumber('seconds', 1, 60),
    default: '60',
    doc: 'How long an idle-stop minute lasts; made for tests, leave it at 60.',
  },
  WEAVE_PASSWORD: {
    file: 'hosts/global.env',
    schema: nonEmpty('a password'),
    default: undefined,
    doc: 'Encryption password for the weave driver.',
    secret: true,
  },

  // .private: kept out of git; the SDK's default chain is used when these are absent.
  AWS_ACCESS_KEY_ID: {
    file: '.private',
    schema: z.string().regex(/^[A-Z0-9]{16,128}$/, 'expected an access key id such as AKIA... (capital letters and digits)'),
    default: undefined,
    doc: "AWS access key id (compatibility with the original's config/.private).",
  },
  AWS_SECRET_ACCESS_KEY: {
    file: '.private',
    schema: nonEmpty('a secret access key'),
    default: undefined,
    doc: 'AWS secret access key; never printed.',
    secret: true,
  },
} satisfies Record<string, KeySpec<unknown>>;

export type ConfigKey = keyof typeof KEYS;
export type KeyValue<K extends ConfigKey> = z.output<(typeof KEYS)[K]['schema']>;

/** Keys that hosts receive, settable in global.env and overridden per role in init.env / compute.env. */
export const HOST_KEYS = (Object.keys(KEYS) as ConfigKey[]).filter((key) => KEYS[key].file === 'hosts/global.env');
