// Where the customer's front-end files (../shared/seed-frontend) are: SEED_FRONTEND_DIR, else
// beside the checkout (the development layout), else the workspace's shared folder (a CI clone
// elsewhere on the machine). Read by build-seed.mjs and check-types.mjs.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const candidates = [
  process.env.SEED_FRONTEND_DIR,
  join(root, '../shared/seed-frontend'),
  '/work/shared/seed-frontend',
].filter(Boolean);

/** The first candidate holding `file`, else the first candidate (for the error message). */
export function seedDir(file) {
  return resolve(candidates.find((dir) => existsSync(join(dir, file))) || candidates[0]);
}
