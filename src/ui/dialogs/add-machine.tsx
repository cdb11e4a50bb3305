import { Box, Text, useInput } from 'ink';
import SelectInput from 'ink-select-input';
import TextInput from 'ink-text-input';
import { useState } from 'react';
import { defaultName, parseTarget } from '../../engine/own-machines.js';
import type { ComputeType } from '../../providers/provider.js';

export interface AddChoice {
  target: string;
  name: string;
  computeType: ComputeType;
  /** Empty: log in with the user's SSH keys or agent. */
  password: string;
}

const TYPES: ComputeType[] = ['cpu', 'gpu'];

/**
 * "Add an existing machine": USER@HOST[:PORT], its name (the host's first label unless changed), cpu or
 * gpu, and a password for the first login, shown as stars and used once (empty: the user's SSH keys).
 * Esc cancels.
 */
export function AddMachineForm(props: { onAdd(choice: AddChoice): void; onCancel(): void; width: number }) {
  const [target, setTarget] = useState('');
  const [confirmedTarget, setConfirmedTarget] = useState<string | undefined>();
  const [name, setName] = useState<string | undefined>();
  const [confirmedName, setConfirmedName] = useState<string | undefined>();
  const [computeType, setComputeType] = useState<ComputeType | undefined>();
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  useInput((_input, key) => {
    if (key.escape) props.onCancel();
  });

  const submitTarget = (value: string) => {
    try {
      const { host } = parseTarget(value.trim());
      setConfirmedTarget(value.trim());
      setName(defaultName(host));
      setProblem(undefined);
    } catch (error) {
      setProblem((error as Error).message);
    }
  };

  let step;
  if (confirmedTarget === undefined) {
    step = (
      <>
        <Text>Machine (USER@HOST or USER@HOST:PORT):</Text>
        <TextInput value={target} onChange={setTarget} onSubmit={submitTarget} placeholder="alice@lab1.example.org" />
      </>
    );
  } else if (confirmedName === undefined) {
    step = (
      <>
        <Text>Name for {confirmedTarget} (its aliases: ssh-NAME, cpu-NAME or gpu-NAME):</Text>
        <TextInput value={name ?? ''} onChange={setName} onSubmit={(value) => value.trim() && setConfirmedName(value.trim())} />
      </>
    );
  } else if (!computeType) {
    step = (
      <>
        <Text>Machine type ({confirmedName}):</Text>
        <SelectInput key="type" items={TYPES.map((type) => ({ label: type, value: type }))} onSelect={(item) => setComputeType(item.value)} />
      </>
    );
  } else {
    step = (
      <>
        <Text>Password for the first login, used once and never kept (Enter alone: your SSH keys or agent):</Text>
        <TextInput value={password} onChange={setPassword} mask="*" onSubmit={() => props.onAdd({ target: confirmedTarget, name: confirmedName, computeType, password })} />
      </>
    );
  }
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="cyan" paddingX={1} width={props.width}>
      <Text bold>Add an existing machine</Text>
      <Text> </Text>
      {step}
      {problem ? <Text color="red">{problem}</Text> : null}
      <Text> </Text>
      <Text dimColor>Enter confirms · Esc cancels</Text>
    </Box>
  );
}
