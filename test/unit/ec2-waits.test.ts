import { DescribeInstancesCommand, DescribeInstanceStatusCommand, EC2Client, RunInstancesCommand, waitUntilInstanceRunning, waitUntilInstanceStatusOk } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { Ec2Api } from '../../src/providers/ec2/ec2-api.js';
import { awsError, FakeEc2 } from '../helpers/fake-ec2.js';
import { makeProject } from '../helpers/project.js';

/** The SDK's own waiters, polling the fake EC2 every few milliseconds. */
function waits() {
  const fake = new FakeEc2(new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' } }));
  const config = loadConfig(makeProject({ 'project.env': 'PROJECT_NAME=waits\nAWS_REGION=eu-west-1\n' }), {});
  const api = new Ec2Api(config, {}, { client: fake.client, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 }, wait: { minDelay: 0.001, maxDelay: 0.002 } });
  return { fake, api };
}

async function launched(fake: FakeEc2): Promise<string> {
  const { Instances } = await fake.client.send(new RunInstancesCommand({ ImageId: 'ami-0a1b2c3d4e5f60002', InstanceType: 'c7i.2xlarge', MinCount: 1, MaxCount: 1 }));
  return Instances?.[0]?.InstanceId ?? '';
}

describe("waiting on EC2 with the SDK's waiters", () => {
  it('an expired token stops the wait at once with AWS\'s reason, instead of polling until the limit', async () => {
    const { fake, api } = waits();
    const id = await launched(fake);
    fake.holdPending.add(id);
    fake.failNext(DescribeInstancesCommand, awsError('ExpiredToken', 'The security token included in the request is expired'), 1000);
    const started = Date.now();
    await expect(api.wait(`${id} to run`, waitUntilInstanceRunning, { InstanceIds: [id] }, 600)).rejects.toThrow(
      /cannot .* AWS rejected the credentials \(ExpiredToken: The security token included in the request is expired\)/,
    );
    // One poll, then the abort: not ten minutes of them.
    expect(fake.inputs(DescribeInstancesCommand).length).toBeLessThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a missing permission for the status checks is reported at once, naming what is not allowed', async () => {
    const { fake, api } = waits();
    const id = await launched(fake);
    fake.failNext(DescribeInstanceStatusCommand, awsError('UnauthorizedOperation', 'You are not authorized to perform: ec2:DescribeInstanceStatus'), 1000);
    await expect(api.wait(`${id} to pass its status checks`, waitUntilInstanceStatusOk, { InstanceIds: [id] }, 600)).rejects.toThrow(
      /these AWS credentials are not allowed to \(UnauthorizedOperation\)/,
    );
    expect(fake.inputs(DescribeInstanceStatusCommand).length).toBeLessThanOrEqual(2);
  });

  it('a wait that runs out says what was awaited, what AWS last answered and what to check', async () => {
    const { fake, api } = waits();
    const id = await launched(fake);
    fake.holdPending.add(id);
    const waited = api.wait(`${id} to run`, waitUntilInstanceRunning, { InstanceIds: [id] }, 1);
    await expect(waited).rejects.toThrow(new RegExp(`^${id} to run: not done after 1 s; AWS last answered: \\S+`));
    await expect(waited).rejects.toMatchObject({ hint: expect.stringMatching(/EC2 console \(eu-west-1\): its state and status checks/) });
  });

  it('a wait that can no longer succeed (the instance ended) says so, not "not done"', async () => {
    const { fake, api } = waits();
    const id = await launched(fake);
    fake.failToRun.set(id, 'We currently do not have sufficient capacity');
    await expect(api.wait(`${id} to run`, waitUntilInstanceRunning, { InstanceIds: [id] }, 600)).rejects.toThrow(new RegExp(`^${id} to run: it ended where it cannot get to`));
  });
});
