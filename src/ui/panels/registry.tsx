import type { RepositoryInfo } from '../../engine/registry.js';
import type { RegistryView } from '../model.js';
import { EmptyState, Panel, contentLines, contentWidth } from './panel.js';
import { Table, type Column, type Line } from './table.js';

const COLUMNS: Column[] = [
  { title: 'REPOSITORY', width: 16 },
  { title: 'TAGS', width: 20 },
  { title: 'SIZE', width: 10 },
  { title: 'LAST PUSH', width: 16 },
];

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The newest image of a repository: the registry records no push time, so its build time stands for it. */
function lastPush(repository: RepositoryInfo): string {
  const newest = repository.tags.map((tag) => tag.created).filter((created): created is string => Boolean(created)).sort().at(-1);
  return newest ? newest.replace('T', ' ').slice(0, 16) : '-';
}

export function RegistryPanel(props: { registry: RegistryView; selected: number; focused: boolean; width: number; height: number }) {
  const { registry } = props;
  let body;
  if (registry.state === 'no-init') body = <EmptyState>no registry — press i to bring up init, which runs it</EmptyState>;
  else if (registry.state === 'loading') body = <EmptyState>reading the registry…</EmptyState>;
  else if (registry.state === 'error') body = <EmptyState>cannot read the registry: {registry.message} — press i to repair init</EmptyState>;
  else if (registry.repositories.length === 0) body = <EmptyState>the registry is empty — add docker/NNN-name/Dockerfile and press b to build</EmptyState>;
  else {
    const lines: Line[] = registry.repositories.map((repository, item) => ({
      item,
      cells: [
        { text: repository.name },
        { text: repository.tags.map((tag) => tag.tag).join(', ') },
        { text: megabytes(repository.tags.find((tag) => tag.tag === 'latest')?.size ?? repository.tags[0]?.size) },
        { text: lastPush(repository) },
      ],
    }));
    body = <Table columns={COLUMNS} lines={lines} selected={props.selected} focused={props.focused} width={contentWidth(props.width)} height={contentLines(props.height)} />;
  }
  return (
    <Panel number={2} title="Registry" focused={props.focused} width={props.width} height={props.height}>
      {body}
    </Panel>
  );
}
