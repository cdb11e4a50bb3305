import { Box, Text, useInput } from 'ink';
import SelectInput from 'ink-select-input';
import { useState } from 'react';
import type { LastUp } from '../../engine/preferences.js';
import type { ComputeType, ProviderName } from '../../providers/provider.js';

export type UpChoice = LastUp;

const COUNTS = [1, 2, 3, 4, 8];
const SETUP = [true, false];
const TYPES: ComputeType[] = ['cpu', 'gpu'];
const ADD_EXISTING = 'add-existing';

/** Where a menu starts: on the last choice when it is one of the items, else on the first. */
const startAt = <T,>(values: readonly T[], last: T | undefined) => Math.max(0, last === undefined ? 0 : values.indexOf(last));

/**
 * `u`: four menus in turn — provider, machine type, count, whether to set them up — each starting on the last bring-up's
 * choice. Each SelectInput exists (and so takes keys) only while its step is shown, and has a React
 * key of its own: a new SelectInput per step, so each starts on its own initialIndex. Esc cancels.
 */
export function UpMenu(props: {
  providers: ProviderName[];
  last: UpChoice | undefined;
  onChoose(choice: UpChoice): void;
  /** Offers "add an existing machine" first in the provider menu. */
  onAddExisting?: () => void;
  onCancel(): void;
  width: number;
}) {
  const [provider, setProvider] = useState<ProviderName | undefined>();
  const [computeType, setComputeType] = useState<ComputeType | undefined>();
  const [count, setCount] = useState<number | undefined>();
  useInput((_input, key) => {
    if (key.escape) props.onCancel();
  });
  let step;
  if (!provider) {
    step = (
      <>
        <Text>Provider:</Text>
        <SelectInput
          key="provider"
          items={[
            ...props.providers.map((name) => ({ label: name, value: name as string })),
            ...(props.onAddExisting ? [{ label: 'add an existing machine (ssh)', value: ADD_EXISTING }] : []),
          ]}
          initialIndex={startAt(props.providers, props.last?.provider)}
          onSelect={(item) => (item.value === ADD_EXISTING ? props.onAddExisting?.() : setProvider(item.value as ProviderName))}
        />
      </>
    );
  } else if (!computeType) {
    step = (
      <>
        <Text>Machine type ({provider}):</Text>
        <SelectInput
          key="type"
          items={TYPES.map((type) => ({ label: type, value: type }))}
          initialIndex={startAt(TYPES, props.last?.computeType)}
          onSelect={(item) => setComputeType(item.value)}
        />
      </>
    );
  } else if (count === undefined) {
    step = (
      <>
        <Text>
          How many {computeType} machines ({provider})?
        </Text>
        <SelectInput
          key="count"
          items={COUNTS.map((value) => ({ label: String(value), value }))}
          initialIndex={startAt(COUNTS, props.last?.count)}
          onSelect={(item) => setCount(item.value)}
        />
      </>
    );
  } else {
    step = (
      <>
        <Text>Set them up once they run (Docker, overlay, /project)?</Text>
        <SelectInput
          key="setup"
          items={SETUP.map((value) => ({ label: value ? 'yes — bring up and set up' : 'no — only bring up', value: String(value) }))}
          initialIndex={startAt(SETUP, props.last?.setup ?? true)}
          onSelect={(item) => props.onChoose({ provider, computeType, count, setup: item.value === 'true' })}
        />
      </>
    );
  }
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="cyan" paddingX={1} width={props.width}>
      <Text bold>Bring up machines</Text>
      <Text> </Text>
      {step}
      <Text> </Text>
      <Text dimColor>↑/↓ choose · Enter selects · Esc cancels</Text>
    </Box>
  );
}
