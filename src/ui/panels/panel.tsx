import { Box, Text } from 'ink';
import type { ReactNode } from 'react';

/** A bordered panel with its number and title; the focused one stands out. */
export function Panel(props: { number: number; title: string; note?: string; focused: boolean; width: number; height: number; children: ReactNode }) {
  return (
    <Box flexDirection="column" width={props.width} height={props.height} borderStyle="round" borderColor={props.focused ? 'cyan' : 'gray'} paddingX={1} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold color={props.focused ? 'cyan' : undefined}>
          {props.number} {props.title}
        </Text>
        {props.note ? <Text dimColor> {props.note}</Text> : null}
      </Text>
      {props.children}
    </Box>
  );
}

/** Lines a panel of this height has for content (border and title excluded). */
export function contentLines(height: number): number {
  return Math.max(0, height - 3);
}

/** Width a panel of this width has for content (border and padding excluded). */
export function contentWidth(width: number): number {
  return Math.max(0, width - 4);
}

/** What a panel says when it has nothing to show: what to do next. */
export function EmptyState(props: { children: ReactNode }) {
  return (
    <Text dimColor wrap="truncate-end">
      {props.children}
    </Text>
  );
}
