import { Box, Text } from 'ink';

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

export interface Outcome {
  ok: boolean;
  text: string;
}

/**
 * One line: a spinner and the work in flight, else the latest outcome (errors in red); then what bills
 * while forgotten (hosts without idle stop, old images), unless an error needs the room; the help key.
 */
export function StatusLine(props: { jobs: string[]; outcome: Outcome | undefined; warnings: string[]; tick: number; width: number }) {
  let body;
  if (props.jobs.length > 0) {
    body = (
      <Text color="yellow" wrap="truncate-end">
        {SPINNER[props.tick % SPINNER.length]} {props.jobs.join(' · ')}
        {props.outcome ? <Text color={props.outcome.ok ? 'green' : 'red'}> │ {props.outcome.ok ? '✓' : '✗'} {props.outcome.text}</Text> : null}
      </Text>
    );
  } else if (props.outcome) {
    body = (
      <Text color={props.outcome.ok ? 'green' : 'red'} wrap="truncate-end">
        {props.outcome.ok ? '✓' : '✗'} {props.outcome.text}
      </Text>
    );
  } else {
    body = <Text dimColor>ready</Text>;
  }
  // An error needs the room more than a standing warning does.
  const warning = props.warnings.length > 0 && props.outcome?.ok !== false ? ` ⚠ ${props.warnings.join(' · ')}` : undefined;
  return (
    <Box width={props.width} height={1}>
      <Box flexGrow={1} flexShrink={1} overflow="hidden">
        {body}
      </Box>
      {warning ? (
        <Box width={Math.min(warning.length, Math.floor(props.width / 2))} flexShrink={0}>
          <Text color="yellow" wrap="truncate-end">
            {warning}
          </Text>
        </Box>
      ) : null}
      <Text dimColor> ? help · q quit</Text>
    </Box>
  );
}
