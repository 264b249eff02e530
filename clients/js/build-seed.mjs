// Builds the test app of tests/web/test_react_seed.py: the customer's NotificationCenter.tsx,
// read as it is from ../shared/seed-frontend/ (SEED_FRONTEND_DIR overrides), against this
// package's useNotifications. Its imports are resolved here, the file itself is not touched:
//   ../hooks/useNotifications -> src/react.js        ./ui/Button -> tests/web/seed_app/Button.jsx
//   lucide-react, date-fns, react                    -> this package's devDependencies
// Tailwind (the customer's app styles the component with it) compiles the classes it uses.
// Output: tests/web/seed_app/dist/ (git-ignored). `make test` runs this after `npm ci`.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import postcss from 'postcss';
import tailwind from 'tailwindcss';
import { seedDir as findSeed } from './seed-dir.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const seedDir = findSeed('NotificationCenter.tsx');
const seedComponent = join(seedDir, 'NotificationCenter.tsx');
const appDir = join(root, 'tests/web/seed_app');
const outDir = join(appDir, 'dist');
const hook = join(here, 'src/react.js');
const button = join(appDir, 'Button.jsx');

if (!existsSync(seedComponent)) {
  console.error(`build-seed: ${seedComponent} not found (set SEED_FRONTEND_DIR)`);
  process.exit(1);
}

const fromSeed = (args) => args.importer.startsWith(seedDir + '/');

/** The seed's imports, as their app resolves them, pointed at ours. */
const seedImports = {
  name: 'seed-imports',
  setup(builder) {
    builder.onResolve({ filter: /^seed-frontend\// }, (args) => ({
      path: join(seedDir, args.path.slice('seed-frontend/'.length)),
    }));
    builder.onResolve({ filter: /^\.\.\/hooks\/useNotifications$/ }, (args) =>
      fromSeed(args) ? { path: hook } : undefined,
    );
    builder.onResolve({ filter: /^\.\/ui\/Button$/ }, (args) =>
      fromSeed(args) ? { path: button } : undefined,
    );
  },
};

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

await build({
  entryPoints: [join(appDir, 'main.jsx')],
  outfile: join(outDir, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'chrome120',
  jsx: 'automatic',
  // The seed and the test app live outside this package: their bare imports (react,
  // lucide-react, date-fns) come from here, so there is one React.
  nodePaths: [join(here, 'node_modules')],
  define: { 'process.env.NODE_ENV': '"development"' },
  sourcemap: 'linked',
  plugins: [seedImports],
  logLevel: 'warning',
});

const styles = await postcss([
  tailwind({
    content: [seedComponent, button, join(appDir, 'main.jsx'), join(appDir, 'index.html')],
    // Their Tailwind config's brand colour (the badge); the value is ours.
    theme: { extend: { colors: { 'vividly-red': '#e11d48' } } },
  }),
]).process('@tailwind base;\n@tailwind components;\n@tailwind utilities;\n', {
  from: undefined,
});
await writeFile(join(outDir, 'app.css'), styles.css);
await copyFile(join(appDir, 'index.html'), join(outDir, 'index.html'));

const size = (await readFile(join(outDir, 'app.js'))).length;
console.log(`build-seed: ${outDir} (app.js ${Math.round(size / 1024)} KiB)`);
