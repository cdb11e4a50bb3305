import { Box, Text, useInput } from 'ink';
import { useState } from 'react';

export interface ConfirmRequest {
  title: string;
  /** Exactly what will happen, one line each. */
  lines: string[];
  /** The button that goes ahead, e.g. "Destroy". */
  action: string;
  /** A word the person must type before the action is enabled (e.g. a provider's name). */
  typed?: string;
  onConfirm(): void;
}

/**
 * A confirmation that starts on Cancel: ←/→ or Tab move between the buttons, Enter chooses, Esc
 * cancels. With `typed`, the action stays disabled until that exact word is typed.
 */
export function ConfirmDialog(props: ConfirmRequest & { onCancel(): void; width: number }) {
  const [onAction, setOnAction] = useState(false);
  const [text, setText] = useState('');
  const enabled = props.typed === undefined || text === props.typed;
  useInput((input, key) => {
    if (key.escape) return props.onCancel();
    if (key.leftArrow || key.rightArrow || key.tab) return setOnAction((value) => !value);
    if (key.return) {
      if (!onAction) return props.onCancel();
      if (enabled) return props.onConfirm();
      return;
    }
    if (props.typed === undefined) return;
    if (key.backspace || key.delete) return setText((value) => value.slice(0, -1));
    if (input && !key.ctrl && !key.meta) setText((value) => value + input);
  });
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="yellow" paddingX={1} width={props.width}>
      <Text bold>{props.title}</Text>
      <Text> </Text>
      {props.lines.map((line, index) => (
        <Text key={index} wrap="wrap">
          • {line}
        </Text>
      ))}
      {props.typed === undefined ? null : (
        <>
          <Text> </Text>
          <Text>
            Type <Text bold>{props.typed}</Text> to enable {props.action}: <Text color="cyan">{text}▏</Text>
          </Text>
        </>
      )}
      <Text> </Text>
      <Text>
        <Text inverse={!onAction}> Cancel </Text>
        {'   '}
        <Text inverse={onAction} color={enabled ? 'red' : 'gray'} dimColor={!enabled}>
          {' '}
          {props.action}{' '}
        </Text>
        <Text dimColor>{'   '}←/→ choose · Enter · Esc cancels</Text>
      </Text>
    </Box>
  );
}
