import { Box, Text, useInput } from 'ink';
import TextInput from 'ink-text-input';
import { useState } from 'react';

export interface RunChoice {
  image: string;
  /** A host, a group or a glob; undefined: every compute host. */
  pattern: string | undefined;
  replicas: number;
}

const FIELDS = ['image', 'pattern', 'replicas'] as const;
type Field = (typeof FIELDS)[number];
export type RunFormValues = Record<Field, string>;

const LABELS: Record<Field, string> = { image: 'Image', pattern: 'Hosts', replicas: 'Replicas' };
const PLACEHOLDERS: Record<Field, string> = {
  image: 'NAME or NAME:TAG of the registry, e.g. analysis',
  pattern: 'every compute host (or a host, a group, a glob)',
  replicas: '',
};
/** The marker, the label and its colon, and a space. */
const LABEL_WIDTH = Math.max(...FIELDS.map((field) => LABELS[field].length)) + 4;

/** The form's values as a run to start, or what to fix first and in which field. */
export function checkRunForm(values: RunFormValues): { ok: true; choice: RunChoice } | { ok: false; field: Field; problem: string } {
  const image = values.image.trim();
  if (!image) return { ok: false, field: 'image', problem: 'Image: name an image of the registry (pcc registry or the Registry panel lists them)' };
  const replicas = values.replicas.trim();
  if (!/^[0-9]+$/.test(replicas) || Number(replicas) < 1) return { ok: false, field: 'replicas', problem: `Replicas: "${replicas}" is not a whole number of 1 or more` };
  const pattern = values.pattern.trim();
  return { ok: true, choice: { image, pattern: pattern || undefined, replicas: Number(replicas) } };
}

/**
 * `R`: the image to run, where (a host pattern; empty is every compute host) and how many replicas.
 * Tab or ↑/↓ move between the fields, Enter starts the run from any field (the fields are checked
 * first), Esc cancels.
 */
export function RunForm(props: { onRun(choice: RunChoice): void; onCancel(): void; width: number }) {
  const [values, setValues] = useState<RunFormValues>({ image: '', pattern: '', replicas: '1' });
  const [field, setField] = useState<Field>('image');
  const [problem, setProblem] = useState<string | undefined>();
  useInput((_input, key) => {
    if (key.escape) return props.onCancel();
    if (key.tab || key.upArrow || key.downArrow) {
      const step = key.upArrow || (key.tab && key.shift) ? -1 : 1;
      setField((current) => FIELDS[(FIELDS.indexOf(current) + FIELDS.length + step) % FIELDS.length] as Field);
    }
  });

  const submit = () => {
    const checked = checkRunForm(values);
    if (checked.ok) return props.onRun(checked.choice);
    setProblem(checked.problem);
    setField(checked.field);
  };

  return (
    <Box flexDirection="column" borderStyle="double" borderColor="cyan" paddingX={1} width={props.width}>
      <Text bold>Run an image on the fleet</Text>
      <Text> </Text>
      {FIELDS.map((name) => (
        <Box key={name}>
          <Box width={LABEL_WIDTH} flexShrink={0}>
            {/* The marker shows the field that takes the keys where the terminal shows no colour. */}
            <Text color={name === field ? 'cyan' : undefined}>
              {name === field ? '›' : ' '} {LABELS[name]}:
            </Text>
          </Box>
          <TextInput
            value={values[name]}
            onChange={(value) => setValues((current) => ({ ...current, [name]: value }))}
            onSubmit={submit}
            focus={name === field}
            placeholder={PLACEHOLDERS[name]}
          />
        </Box>
      ))}
      {problem ? <Text color="red">{problem}</Text> : null}
      <Text> </Text>
      <Text dimColor>Tab or ↑/↓ move · Enter starts the run · Esc cancels</Text>
    </Box>
  );
}
