import { Box, Text } from 'ink';

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

export interface Outcome {
  ok: boolean;
  text: string;
}

/** One line: a spinner and the work in flight, else the latest outcome (errors in red); the help key. */
export function StatusLine(props: { jobs: string[]; outcome: Outcome | undefined; tick: number; width: number }) {
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
  return (
    <Box width={props.width} height={1}>
      <Box flexGrow={1} flexShrink={1} overflow="hidden">
        {body}
      </Box>
      <Text dimColor> ? help · q quit</Text>
    </Box>
  );
}
