/** Entry point of dist/cli.js: `node dist/cli.js run <notebook.aenb> ...` (see main.ts). */
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`aenb: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
