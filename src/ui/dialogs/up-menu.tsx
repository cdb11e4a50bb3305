import { Box, Text, useInput } from 'ink';
import SelectInput from 'ink-select-input';
import { useState } from 'react';
import type { ComputeType, ProviderName } from '../../providers/provider.js';

export interface UpChoice {
  provider: ProviderName;
  computeType: ComputeType;
  count: number;
}

const COUNTS = [1, 2, 3, 4, 8];

/**
 * `u`: three menus in turn — provider, machine type, count. Each SelectInput exists (and so takes
 * keys) only while its step is shown. Esc cancels.
 */
export function UpMenu(props: { providers: ProviderName[]; onChoose(choice: UpChoice): void; onCancel(): void; width: number }) {
  const [provider, setProvider] = useState<ProviderName | undefined>();
  const [computeType, setComputeType] = useState<ComputeType | undefined>();
  useInput((_input, key) => {
    if (key.escape) props.onCancel();
  });
  let step;
  if (!provider) {
    step = (
      <>
        <Text>Provider:</Text>
        <SelectInput items={props.providers.map((name) => ({ label: name, value: name }))} onSelect={(item) => setProvider(item.value)} />
      </>
    );
  } else if (!computeType) {
    step = (
      <>
        <Text>Machine type ({provider}):</Text>
        <SelectInput
          items={[
            { label: 'cpu', value: 'cpu' as const },
            { label: 'gpu', value: 'gpu' as const },
          ]}
          onSelect={(item) => setComputeType(item.value)}
        />
      </>
    );
  } else {
    step = (
      <>
        <Text>
          How many {computeType} machines ({provider})?
        </Text>
        <SelectInput items={COUNTS.map((count) => ({ label: String(count), value: count }))} onSelect={(item) => props.onChoose({ provider, computeType, count: item.value })} />
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
