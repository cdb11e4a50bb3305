import { Text } from 'ink';
import type { LogLine, LogView } from '../log-buffer.js';
import { EmptyState, Panel, contentLines } from './panel.js';

/** The log pane: the visible lines of the tailed source, whether it follows, and the filter. */
export function LogsPanel(props: {
  source: string;
  lines: LogLine[];
  view: LogView;
  filter: string;
  filterEditing: boolean;
  focused: boolean;
  width: number;
  height: number;
}) {
  const rows = contentLines(props.height) - (props.filterEditing || props.filter ? 1 : 0);
  const note = `${props.source} · ${props.view.follow ? 'following' : 'scrolled — End follows'}`;
  return (
    <Panel number={5} title="Logs" note={note} focused={props.focused} width={props.width} height={props.height}>
      {props.lines.length === 0 ? (
        <EmptyState>
          {props.filter ? `no line contains "${props.filter}" — / then Esc clears the filter` : `nothing logged for ${props.source} yet — select a host, build or run and press l`}
        </EmptyState>
      ) : (
        props.lines.slice(0, Math.max(0, rows)).map((line) => (
          <Text key={line.seq} wrap="truncate-end" color={line.text.startsWith('! ') || /\bfailed\b/.test(line.text) ? 'red' : undefined}>
            {line.text || ' '}
          </Text>
        ))
      )}
      {props.filterEditing || props.filter ? (
        <Text wrap="truncate-end" color={props.filterEditing ? 'cyan' : undefined}>
          /{props.filter}
          {props.filterEditing ? '▏ (Enter keeps, Esc clears)' : ''}
        </Text>
      ) : null}
    </Panel>
  );
}
