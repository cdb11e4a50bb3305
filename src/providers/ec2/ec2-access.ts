import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  ImportKeyPairCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import type { Config } from '../../core/config/load.js';
import { PccError } from '../../core/errors.js';
import { ProviderError, type ProviderOutput } from '../provider.js';
import type { Ec2Api } from './ec2-api.js';
import { hostOf, PRESENT_STATES, projectInstances } from './ec2-instances.js';
import { projectFilter, TAG, tags, tagSpecs } from './ec2-tags.js';

/**
 * Who may reach the project's instances: pcc's SSH key as a key pair, and one security group that
 * admits SSH and the overlay port from EC2_SSH_CIDRS only and any traffic between its members.
 * Both are shared by the project's instances and removed when none uses them any more.
 */
export interface Access {
  keyName: string;
  groupId: string;
}

/** Both are named after the project. */
/**
 * AWS's eventual consistency: a group just created may be unknown to the next calls for a while
 * (InvalidGroup.NotFound), and so may a key pair just imported; both are retried, boundedly.
 */
export const NEW_GROUP = { retryOn: ['InvalidGroup.NotFound'] };
export const NEW_ACCESS = { retryOn: ['InvalidGroup.NotFound', 'InvalidKeyPair.NotFound'] };

export function accessName(project: string): string {
  return `pcc-${project}`;
}

export async function ensureAccess(api: Ec2Api, config: Config, publicKey: string, output: ProviderOutput): Promise<Access> {
  return { keyName: await ensureKeyPair(api, config.project.id, publicKey, output), groupId: await ensureSecurityGroup(api, config, output) };
}

/** Deletes the group and the key pair unless an instance of the project still uses them. */
export async function releaseAccess(api: Ec2Api, project: string, output: ProviderOutput): Promise<void> {
  if ((await projectInstances(api, project, PRESENT_STATES)).length > 0) return;
  const name = accessName(project);
  const group = (await findGroup(api, project))?.GroupId;
  if (group) {
    // A just-terminated instance's network interface holds the group for a while: DependencyViolation.
    await api.call(`delete security group ${name}`, (client) => client.send(new DeleteSecurityGroupCommand({ GroupId: group })), { retryOn: ['DependencyViolation'] });
    output(`deleted security group ${name} (${group})`);
  }
  if (await findKeyPair(api, name)) {
    await api.call(`delete key pair ${name}`, (client) => client.send(new DeleteKeyPairCommand({ KeyName: name })));
    output(`deleted key pair ${name}`);
  }
}

async function ensureKeyPair(api: Ec2Api, project: string, publicKey: string, output: ProviderOutput): Promise<string> {
  const name = accessName(project);
  const existing = await findKeyPair(api, name);
  if (existing) {
    if (keyMaterial(existing.PublicKey ?? '') === keyMaterial(publicKey)) return name;
    const users = await projectInstances(api, project, PRESENT_STATES, [{ Name: 'key-name', Values: [name] }]);
    if (users.length > 0) {
      throw new PccError(`key pair ${name} in AWS holds another public key than pcc's key for this project (ssh/id_ed25519.pub in its private state), and ${users.map(hostOf).join(', ')} use it`, {
        hint: 'Put back the key pcc made for this project (ssh/ under ~/.local/state/pcc/projects/PROJECT-ID/), or destroy those hosts (pcc destroy ec2 --yes).',
      });
    }
    await api.call(`replace key pair ${name}`, (client) => client.send(new DeleteKeyPairCommand({ KeyName: name })));
  }
  await api.call(`import pcc's SSH key as key pair ${name}`, (client) =>
    client.send(
      new ImportKeyPairCommand({
        KeyName: name,
        PublicKeyMaterial: new TextEncoder().encode(publicKey),
        TagSpecifications: tagSpecs(['key-pair'], sharedTags(project, 'key-pair')),
      }),
    ),
  );
  output(`imported pcc's SSH key as key pair ${name}`);
  return name;
}

async function ensureSecurityGroup(api: Ec2Api, config: Config, output: ProviderOutput): Promise<string> {
  const project = config.project.id;
  const name = accessName(project);
  const found = await findGroup(api, project);
  let groupId = found?.GroupId;
  if (!groupId) {
    const created = await api.call(`create security group ${name}`, (client) =>
      client.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: `pcc project ${project}: SSH and the overlay from EC2_SSH_CIDRS, everything between members`,
          TagSpecifications: tagSpecs(['security-group'], sharedTags(project, 'security-group')),
        }),
      ),
    );
    groupId = created.GroupId;
    if (!groupId) throw new PccError(`creating security group ${name} returned no id`);
    output(`created security group ${name} (${groupId})`);
  }
  const id = groupId;
  const wanted = desiredRules(config, id);
  const current = (found?.IpPermissions ?? []).flatMap(rulesOf);
  const keys = (rules: Rule[]) => new Set(rules.map(ruleKey));
  const missing = wanted.filter((rule) => !keys(current).has(ruleKey(rule)));
  const extra = current.filter((rule) => !keys(wanted).has(ruleKey(rule)));
  if (extra.length > 0) {
    await api.call(`remove rules from security group ${name}`, (client) =>
      client.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: extra.map(permissionOf) })),
    NEW_GROUP);
    output(`security group ${name}: removed ${extra.map(describeRule).join(', ')}`);
  }
  if (missing.length > 0) {
    await api.call(`add rules to security group ${name}`, (client) =>
      client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: missing.map(permissionOf) })),
    NEW_GROUP);
    output(`security group ${name}: admits ${missing.map(describeRule).join(', ')}`);
  }
  return id;
}

async function findGroup(api: Ec2Api, project: string) {
  const groups = await api.call('look up the security group', (client) =>
    client.send(new DescribeSecurityGroupsCommand({ Filters: [projectFilter(project), { Name: 'group-name', Values: [accessName(project)] }] })),
  );
  return groups.SecurityGroups?.[0];
}

async function findKeyPair(api: Ec2Api, name: string) {
  // A filter, not KeyNames: a missing key is an empty answer rather than an error.
  const pairs = await api.call('look up the key pair', (client) =>
    client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: [name] }], IncludePublicKey: true })),
  );
  return pairs.KeyPairs?.[0];
}

function sharedTags(project: string, type: string) {
  return tags({ [TAG.project]: project, [TAG.name]: accessName(project), [TAG.type]: type });
}

/** The key itself (type and base64), without the comment AWS or ssh-keygen may add. */
function keyMaterial(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** One ingress rule: a protocol and port range from one source. */
interface Rule {
  protocol: string;
  from: number | undefined;
  to: number | undefined;
  source: { cidr: string } | { cidr6: string } | { group: string };
}

/** Who may reach EC2 hosts' SSH and overlay ports; refused when unset, before anything is made. */
export function admittedCidrs(config: Config): string[] {
  const cidrs = config.aws.sshCidrs;
  if (cidrs === undefined || cidrs.length === 0) {
    throw new ProviderError(
      'misconfigured',
      'EC2_SSH_CIDRS is not set: pcc does not open SSH and the overlay port of EC2 hosts to the internet on its own',
      'Set it in config/project.env to the addresses you connect from, e.g. EC2_SSH_CIDRS=203.0.113.4/32 (0.0.0.0/0 admits anyone).',
    );
  }
  return cidrs;
}

function desiredRules(config: Config, groupId: string): Rule[] {
  const overlay = config.hosts.compute.overlay.port;
  const cidrs = admittedCidrs(config);
  return [
    ...cidrs.map((cidr): Rule => ({ protocol: 'tcp', from: 22, to: 22, source: { cidr } })),
    ...cidrs.map((cidr): Rule => ({ protocol: 'udp', from: overlay, to: overlay, source: { cidr } })),
    { protocol: '-1', from: undefined, to: undefined, source: { group: groupId } },
  ];
}

function rulesOf(permission: IpPermission): Rule[] {
  const protocol = permission.IpProtocol ?? '-1';
  const ports = protocol === '-1' ? { from: undefined, to: undefined } : { from: permission.FromPort, to: permission.ToPort };
  return [
    ...(permission.IpRanges ?? []).map((range) => ({ protocol, ...ports, source: { cidr: range.CidrIp ?? '' } })),
    ...(permission.Ipv6Ranges ?? []).map((range) => ({ protocol, ...ports, source: { cidr6: range.CidrIpv6 ?? '' } })),
    ...(permission.UserIdGroupPairs ?? []).map((pair) => ({ protocol, ...ports, source: { group: pair.GroupId ?? '' } })),
  ];
}

function permissionOf(rule: Rule): IpPermission {
  const ports = rule.protocol === '-1' ? {} : { FromPort: rule.from, ToPort: rule.to };
  const source = rule.source;
  return {
    IpProtocol: rule.protocol,
    ...ports,
    ...('cidr' in source ? { IpRanges: [{ CidrIp: source.cidr }] } : {}),
    ...('cidr6' in source ? { Ipv6Ranges: [{ CidrIpv6: source.cidr6 }] } : {}),
    ...('group' in source ? { UserIdGroupPairs: [{ GroupId: source.group }] } : {}),
  };
}

function ruleKey(rule: Rule): string {
  return `${rule.protocol}:${rule.from ?? ''}-${rule.to ?? ''}:${Object.values(rule.source)[0]}`;
}

function describeRule(rule: Rule): string {
  const what = rule.protocol === '-1' ? 'all traffic' : `${rule.from}/${rule.protocol}`;
  const source = rule.source;
  return `${what} from ${'group' in source ? 'members' : 'cidr' in source ? source.cidr : source.cidr6}`;
}
