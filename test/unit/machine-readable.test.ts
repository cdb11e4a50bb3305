import { describe, expect, it } from 'vitest';
import { errorMessages, machineStates, parseMachineReadable } from '../../src/providers/vagrant/machine-readable.js';

const STATUS = [
  '1795706227,compute1,metadata,provider,docker',
  '1795706227,compute1,provider-name,docker',
  '1795706227,compute1,state,running',
  '1795706227,compute1,state-human-short,running',
  '1795706227,compute1,state-human-long,The container is created and running. You can stop it using\\n`vagrant halt`%!(VAGRANT_COMMA) see logs with `vagrant docker-logs`%!(VAGRANT_COMMA) and\\nkill/destroy it with `vagrant destroy`.',
  '1795706228,compute2,state,not_created',
  '1795706228,,ui,info,Current machine states:\\n\\ncompute1                  running (docker)',
  '',
].join('\n');

describe('parseMachineReadable', () => {
  it('splits records into timestamp, target, type and data fields', () => {
    const records = parseMachineReadable(STATUS);
    expect(records).toHaveLength(7);
    expect(records[0]).toEqual({ timestamp: 1795706227, target: 'compute1', type: 'metadata', data: ['provider', 'docker'] });
    expect(records[6]).toMatchObject({ target: '', type: 'ui', data: ['info', 'Current machine states:\n\ncompute1                  running (docker)'] });
  });

  it('restores escaped commas and newlines inside a field', () => {
    const long = parseMachineReadable(STATUS).find((record) => record.type === 'state-human-long');
    expect(long?.data).toEqual([
      'The container is created and running. You can stop it using\n`vagrant halt`, see logs with `vagrant docker-logs`, and\nkill/destroy it with `vagrant destroy`.',
    ]);
  });

  it('maps each machine to its state', () => {
    expect([...machineStates(parseMachineReadable(STATUS))]).toEqual([
      ['compute1', 'running'],
      ['compute2', 'not_created'],
    ]);
  });

  it('ignores lines that are not records (warnings Vagrant prints before them)', () => {
    const records = parseMachineReadable('Vagrant failed to initialize at a very early stage:\n1795706227,x,state,saved\nnot,a,record\n');
    expect(records).toEqual([{ timestamp: 1795706227, target: 'x', type: 'state', data: ['saved'] }]);
  });

  it('reads error-exit records with commas in the message', () => {
    const output = '1795706229,,error-exit,Vagrant::Errors::SuspendNotSupported,The docker provider cannot suspend%!(VAGRANT_COMMA) use halt.\\nSecond line.';
    expect(errorMessages(parseMachineReadable(output))).toEqual(['The docker provider cannot suspend, use halt.\nSecond line.']);
  });
});
