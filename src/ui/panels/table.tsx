import { Box, Text } from 'ink';

export interface Column {
  title: string;
  /** Characters; the last column takes what is left. */
  width: number;
}

export interface Cell {
  text: string;
  color?: string;
  dim?: boolean;
}

/** One line of a table: cells by column, or a single cell spanning the width. */
export interface Line {
  cells: Cell[];
  /** The item this line belongs to (several lines may show one item). */
  item: number;
}

/** Cuts or pads text to exactly `width` characters. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return text.padEnd(width);
}

/** `done` of `total` as a bar of `width` cells. */
export function bar(done: number, total: number, width: number): string {
  const filled = total <= 0 ? 0 : Math.round((Math.min(done, total) / total) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/**
 * A table with a header, scrolled so the selected item stays in view; the selected item's lines are
 * shown inverse when the panel has focus.
 */
export function Table(props: { columns: Column[]; lines: Line[]; selected: number; focused: boolean; width: number; height: number }) {
  const rows = Math.max(0, props.height - 1);
  const firstSelected = props.lines.findIndex((line) => line.item === props.selected);
  let lastSelected = firstSelected;
  while (lastSelected + 1 < props.lines.length && props.lines[lastSelected + 1]?.item === props.selected) lastSelected++;
  const start = firstSelected === -1 ? 0 : Math.max(0, Math.min(firstSelected, lastSelected - rows + 1));
  const widths = columnWidths(props.columns, props.width);
  return (
    <Box flexDirection="column">
      <Text bold dimColor wrap="truncate-end">
        {props.columns.map((column, index) => fit(column.title, widths[index] ?? 0)).join('')}
      </Text>
      {props.lines.slice(start, start + rows).map((line, index) => {
        const selected = props.focused && line.item === props.selected;
        const spans = line.cells.length === 1 ? [props.width] : widths;
        return (
          <Text key={start + index} inverse={selected} wrap="truncate-end">
            {line.cells.map((cell, column) => (
              <Text key={column} color={cell.color} dimColor={cell.dim}>
                {fit(cell.text, spans[column] ?? 0)}
              </Text>
            ))}
          </Text>
        );
      })}
    </Box>
  );
}

function columnWidths(columns: Column[], width: number): number[] {
  const fixed = columns.slice(0, -1).reduce((sum, column) => sum + column.width, 0);
  return columns.map((column, index) => (index === columns.length - 1 ? Math.max(column.width, width - fixed) : column.width));
}
