/**
 * Whether Vagrant can export NFS synced folders here without a password: it runs sudo for
 * `exportfs` and /etc/exports, and a password prompt would land on the terminal (over the UI's
 * screen) or fail without one. Root needs no sudo; others need Vagrant's sudoers rules (or any
 * password-less sudo).
 */
export async function nfsSudoReady(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (process.getuid?.() === 0) return true;
  const { execa } = await import('execa');
  const sudo = (args: string[]) => execa('sudo', ['-n', ...args], { env, extendEnv: false, reject: false, stdin: 'ignore' });
  return (await sudo(['-l', '/usr/sbin/exportfs', '-ar'])).exitCode === 0 || (await sudo(['true'])).exitCode === 0;
}

export const NFS_SUDO_HINT =
  "Run pcc as root, allow Vagrant's NFS commands without a password (its sudoers rules: docs/share.md), or set VAGRANT_SYNCED_FOLDER_TYPE=rsync in config/project.env.";
