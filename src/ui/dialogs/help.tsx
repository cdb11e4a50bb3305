import { Box, Text, useInput } from 'ink';
import { helpSections } from '../keymap.js';

/** The `?` overlay, generated from the keymap, in two columns. `?`, q or Esc closes it. */
export function HelpOverlay(props: { onClose(): void; width: number }) {
  useInput((input, key) => {
    if (key.escape || input === '?' || input === 'q') props.onClose();
  });
  const sections = helpSections();
  const keyWidth = Math.max(...sections.flatMap((section) => section.rows.map((row) => row.keys.length))) + 2;
  // Sections go to the shorter column, so the overlay fits a small terminal.
  const columns: (typeof sections)[] = [[], []];
  const lengths = [0, 0];
  for (const section of sections) {
    const shorter = (lengths[0] ?? 0) <= (lengths[1] ?? 0) ? 0 : 1;
    columns[shorter]?.push(section);
    lengths[shorter] = (lengths[shorter] ?? 0) + section.rows.length + 2;
  }
  const columnWidth = Math.floor((props.width - 4) / 2);
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="cyan" paddingX={1} width={props.width}>
      <Text bold>Keys</Text>
      <Box flexDirection="row">
        {columns.map((column, index) => (
          <Box key={index} flexDirection="column" width={columnWidth}>
            {column.map((section) => (
              <Box key={section.section} flexDirection="column" marginTop={1}>
                <Text bold dimColor>
                  {section.section}
                </Text>
                {section.rows.map((row) => (
                  <Box key={row.keys}>
                    <Box width={keyWidth} flexShrink={0}>
                      <Text color="cyan">{row.keys}</Text>
                    </Box>
                    <Text wrap="wrap">{row.description}</Text>
                  </Box>
                ))}
              </Box>
            ))}
          </Box>
        ))}
      </Box>
      <Text dimColor wrap="truncate-end">Dialogs: ←/→ choose, Enter confirms, Esc cancels. ? or Esc closes this help.</Text>
    </Box>
  );
}
