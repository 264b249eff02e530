// `tsc --noEmit` on types-check.ts: this package's declarations under `strict` with
// `skipLibCheck: false` (as a customer's strict project reads them), and useNotifications()
// assignable to the customer's contract, `seed-frontend/useNotifications.contract.ts` (found as
// build-seed.mjs finds the seed). Run by `make seed-app`; prints tsc's errors and exits 1.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import ts from 'typescript';
import { seedDir } from './seed-dir.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const contract = 'useNotifications.contract.ts';
const seed = seedDir(contract);
if (!existsSync(join(seed, contract))) {
  console.error(`check-types: ${join(seed, contract)} not found (set SEED_FRONTEND_DIR)`);
  process.exit(1);
}

const { options, errors } = ts.convertCompilerOptionsFromJson(
  {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'es2022',
    module: 'esnext',
    moduleResolution: 'bundler',
    lib: ['es2022', 'dom'],
    types: [],
    paths: { 'seed-frontend/*': [join(seed, '*')] },
  },
  here,
);
const program = ts.createProgram([join(here, 'types-check.ts')], options);
const diagnostics = [...errors, ...ts.getPreEmitDiagnostics(program)];
if (diagnostics.length > 0) {
  const host = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => here,
    getNewLine: () => '\n',
  };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}
console.log(`check-types: the declarations and the seed's contract (${seed}) agree`);
