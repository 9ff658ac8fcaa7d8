// Command-line wrapper of ./code-server.ts, run by scripts/code-server.sh:
//
//   install                                   install code-server (idempotent)
//   start <workspace> [port] [options]        run it in the foreground until Ctrl-C
//        --dev [extension folder]             print a URL that loads the extension in development mode
//                                             (default folder: the repository)
//        --install-extension [folder]         link the extension into the extensions folder instead
//        --vsix <file>                        install a packaged extension (npm run package) instead
//        --state <dir>                        keep user data here (default: a temporary folder)
//        --restricted                         do not trust the workspace (Restricted Mode)
//   url <workspace> <port> [--dev [folder]]   print the workbench URL
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot, installCodeServer, installVsix, startCodeServer, workbenchUrl } from './code-server';

const USAGE = `Usage: bash scripts/code-server.sh <command>
  install
  start <workspace> [port] [--dev [folder]] [--install-extension [folder]] [--vsix FILE] [--state DIR] [--restricted]
  url <workspace> <port> [--dev [folder]]`;

function optionalValue(args: string[], flag: string, fallback: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v !== undefined && !v.startsWith('--')) {
    args.splice(i, 2);
    return v;
  }
  args.splice(i, 1);
  return fallback;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = [...rest];
  switch (command) {
    case 'install':
      installCodeServer();
      return 0;
    case 'start': {
      const dev = optionalValue(args, '--dev', findRepoRoot());
      const ext = optionalValue(args, '--install-extension', findRepoRoot());
      const state = optionalValue(args, '--state', '');
      const vsix = optionalValue(args, '--vsix', '');
      const restricted = args.includes('--restricted');
      const [workspace, port] = args.filter((a) => !a.startsWith('--'));
      if (!workspace) throw new Error(`start needs a workspace folder.\n${USAGE}`);
      if (vsix === '') throw new Error(`--vsix needs the .vsix file.\n${USAGE}`);
      // A .vsix goes into the server's extensions folder, so the state must exist before the server starts.
      const stateDir = state || (vsix ? mkdtempSync(join(tmpdir(), 'aenb-code-server-')) : undefined);
      if (vsix) console.log(`installed ${installVsix(vsix, { stateDir: stateDir as string, log: (l) => console.log(l) })}`);
      const server = await startCodeServer({
        workspace,
        port: port ? Number(port) : undefined,
        stateDir,
        trustWorkspace: !restricted,
        extensions: ext ? [ext] : [],
      });
      console.log(`code-server ${server.url} (pid ${server.pid}); state in ${server.stateDir}; log ${server.logFile}`);
      console.log(server.workbenchUrl({ extensionDevelopmentPath: dev }));
      const stop = () => {
        console.log('stopping code-server');
        void server.stop().then(() => {
          if (vsix && !state && stateDir) rmSync(stateDir, { recursive: true, force: true });
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => undefined);
      return 0;
    }
    case 'url': {
      const dev = optionalValue(args, '--dev', findRepoRoot());
      const [workspace, port] = args;
      if (!workspace || !port) throw new Error(`url needs a workspace and a port.\n${USAGE}`);
      console.log(workbenchUrl(`http://127.0.0.1:${port}`, { folder: workspace, extensionDevelopmentPath: dev }));
      return 0;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === '-h' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`code-server: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
