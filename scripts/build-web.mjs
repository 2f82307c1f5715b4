#!/usr/bin/env node
// Builds the web UI into OUTDIR for the binary to embed:
//   node scripts/build-web.mjs [--plugins DIR] OUTDIR     (build.sh runs: node scripts/build-web.mjs build/web)
//
// OUTDIR/index.html            the one page of the agents' app; loads the two assets below with ?v=<content hash>
// OUTDIR/assets/app.js         web/agent/main.js bundled by esbuild (minified, ES2018, IIFE), with every module's
//                              plugins/<name>/web/agent/index.js
// OUTDIR/assets/app.css        web/agent/app.css, then each module's plugins/<name>/web/agent/style.css, minified
// OUTDIR/portal.html           the customer portal's page (web/portal/index.html; the server answers the pages the
//                              modules register, e.g. /contact and /t/{number}, with it); loads assets/portal.js
//                              (web/portal/main.js with every plugins/<name>/web/portal/index.js) and
//                              assets/portal.css likewise
// OUTDIR/favicon.svg
// OUTDIR/<file>.gz             gzip -9 copy of each file above, when smaller (served to clients that accept it)
// OUTDIR/.stamp                written last; its content is a hash of everything else
//
// The modules (plugins/<name>/, or DIR/<name>/ with --plugins, which the tests use) are found by
// scripts/web-modules.mjs. For each bundle this generates two modules the core imports: 'destek:modules' (the
// modules' manifests, in name order) and 'destek:strings' (the core's and the modules' strings merged; a key
// defined twice fails the build). A module reaches the core's shared code through one alias, '@destek/agent'
// (web/agent/shared.js) or '@destek/portal' (web/portal/shared.js); a relative import that leaves the module's
// folder, or one from web/ into plugins/, fails the build. See plugins/README.md, "A module's screens and pages".
//
// Deterministic: the same sources give byte-identical files. A file is only rewritten when its content changes,
// and .stamp likewise, so an unchanged UI does not make the binary re-embed anything.
// esbuild comes from web/node_modules (build.sh runs `npm ci` in web/ first); modules' imports of preact and htm
// resolve there too.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { APPS, WebModuleError, findModules, mergeStrings } from './web-modules.mjs';

const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(top, 'web');
const started = process.hrtime.bigint();

function die(message, code) {
  process.stderr.write('build-web: ' + message + '\n');
  process.exit(code || 1);
}

const usage = 'usage: node scripts/build-web.mjs [--plugins DIR] OUTDIR\n';
const args = process.argv.slice(2);
if (args[0] === '-h' || args[0] === '--help') {
  process.stdout.write(usage);
  process.exit(0);
}
let pluginsDir = path.join(top, 'plugins');
if (args[0] === '--plugins' && args.length > 1) {
  pluginsDir = path.resolve(args[1]);
  args.splice(0, 2);
}
if (args.length !== 1 || args[0].startsWith('-')) die(usage.trim(), 2);
const outdir = path.resolve(args[0]);

let esbuild;
try {
  esbuild = createRequire(path.join(web, 'package.json'))('esbuild');
} catch (e) {
  die('esbuild is not installed in web/node_modules; run: (cd web && npm ci)');
}

let modules;
const strings = {};
try {
  modules = findModules(pluginsDir, top);
  for (const app of APPS) strings[app] = mergeStrings(app, path.join(web, app, 'i18n'), modules, top).messages;
} catch (e) {
  if (e instanceof WebModuleError) die(e.message);
  throw e;
}

const inside = (dir, file) => file === dir || file.startsWith(dir + path.sep);
const rel = (file) => path.relative(top, file).split(path.sep).join('/');
const importPath = (file) => (inside(top, file) ? './' + rel(file) : file.split(path.sep).join('/'));

/* The esbuild plugin of one bundle (app: "agent" or "portal"): the two generated modules, the alias, and the
 * folder boundaries between the core and the modules. */
function destek(app) {
  const shared = path.join(web, app, 'shared.js');
  return {
    name: 'destek',
    setup(build) {
      build.onResolve({ filter: /^destek:/ }, (args) => {
        if (args.path === 'destek:modules' || args.path === 'destek:strings') return { path: args.path, namespace: 'destek' };
        return { errors: [{ text: `${args.path} is not something build-web.mjs generates (destek:modules, destek:strings)` }] };
      });
      build.onLoad({ filter: /.*/, namespace: 'destek' }, (args) => {
        if (args.path === 'destek:strings') return { contents: JSON.stringify(strings[app]), loader: 'json' };
        const list = modules.filter((m) => m.entry[app]);
        const lines = list.map((m, i) => `import * as m${i} from ${JSON.stringify(importPath(m.entry[app]))};`);
        lines.push(`export default [${list.map((m, i) => `{ name: ${JSON.stringify(m.name)}, manifest: m${i} }`).join(', ')}];`);
        return { contents: lines.join('\n') + '\n', loader: 'js', resolveDir: top };
      });
      build.onResolve({ filter: /^@destek(\/|$)/ }, (args) => {
        if (args.path === '@destek/' + app) return { path: shared };
        return { errors: [{ text: `${args.path}: the ${app === 'agent' ? "agents' app" : 'portal'}'s shared code is '@destek/${app}'` }] };
      });
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace !== 'file' || !args.importer) return undefined;
        const target = path.resolve(args.resolveDir, args.path);
        const owner = modules.find((m) => inside(m.dir, args.importer));
        if (owner && !inside(owner.dir, target)) {
          return { errors: [{ text: `${rel(args.importer)} imports ${args.path}, outside its module: shared code comes through ` +
            `'@destek/${app}', and other modules are reached through slots and the API, never imported` }] };
        }
        if (!owner && inside(pluginsDir, target)) {
          return { errors: [{ text: `${rel(args.importer)} imports ${args.path}: web/ knows no module by name; a module ` +
            'contributes through its manifest (plugins/<name>/web/<app>/index.js)' }] };
        }
        return undefined;
      });
    },
  };
}

async function bundle(app, entry, loader) {
  const result = await esbuild.build({
    entryPoints: [path.join(web, entry)],
    absWorkingDir: top,
    bundle: true,
    minify: true,
    target: 'es2018',
    format: 'iife',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
    write: false,
    outdir: 'out', // nothing is written; esbuild wants a name for the output
    loader,
    nodePaths: [path.join(web, 'node_modules')],
    plugins: [destek(app)],
  });
  if (result.outputFiles.length !== 1) die('unexpected esbuild output for ' + entry);
  return Buffer.from(result.outputFiles[0].contents);
}

/* The core's stylesheet, then each module's style.css (name order), as one minified file. */
async function bundleCss(app, entry) {
  const imports = [path.join(web, entry), ...modules.map((m) => m.style[app]).filter(Boolean)];
  const result = await esbuild.build({
    stdin: { contents: imports.map((f) => `@import ${JSON.stringify(importPath(f))};`).join('\n') + '\n',
      resolveDir: top, sourcefile: app + '.css', loader: 'css' },
    absWorkingDir: top,
    bundle: true,
    minify: true,
    target: 'es2018',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
    write: false,
    outdir: 'out',
  });
  if (result.outputFiles.length !== 1) die('unexpected esbuild output for ' + entry);
  return Buffer.from(result.outputFiles[0].contents);
}

const shortHash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 12);

let js, css, portalJs, portalCss;
try {
  [js, css, portalJs, portalCss] = await Promise.all([
    bundle('agent', 'agent/main.js', { '.json': 'json' }),
    bundleCss('agent', 'agent/app.css'),
    bundle('portal', 'portal/main.js', { '.json': 'json' }),
    bundleCss('portal', 'portal/portal.css'),
  ]);
} catch (e) {
  die('esbuild failed:\n' + (e.errors ? e.errors.map((x) => '  ' + (x.location ? x.location.file + ':' +
    x.location.line + ': ' : '') + x.text).join('\n') : e.message));
}

// The Content-Security-Policy allows no inline script or handler: keep the pages honest at build time.
function page(file, jsBuf, cssBuf) {
  const template = fs.readFileSync(path.join(web, file), 'utf8');
  if (/<script(?![^>]*\ssrc=)[^>]*>/i.test(template) || /\son[a-z]+\s*=/i.test(template) || /\sstyle\s*=/i.test(template)) {
    die(`web/${file} must not contain inline scripts, event handler attributes or style attributes`);
  }
  const out = Buffer.from(template.replace('%JS_HASH%', shortHash(jsBuf)).replace('%CSS_HASH%', shortHash(cssBuf)));
  if (out.includes('%')) die(`web/${file} has an unknown %PLACEHOLDER%`);
  return out;
}
const index = page('agent/index.html', js, css);
const portal = page('portal/index.html', portalJs, portalCss);

const files = new Map([
  ['index.html', index],
  ['favicon.svg', fs.readFileSync(path.join(web, 'agent/favicon.svg'))],
  ['assets/app.js', js],
  ['assets/app.css', css],
  ['portal.html', portal],
  ['assets/portal.js', portalJs],
  ['assets/portal.css', portalCss],
]);

// Libraries a module's screen loads only when it is opened (a chart library on a reports page), so that the first
// load of the app does not carry them: plugins/<name>/web/agent/vendor.json maps a file name to a file of an npm
// package in web/node_modules ({"uplot.js": "uplot/dist/uPlot.iife.min.js"}), copied to
// assets/vendor/<name>/<file> and loaded with loadVendor() from '@destek/agent'. Outside the first-load budget, and
// printed beside it.
const vendorFiles = [];
for (const m of modules) {
  const list = path.join(m.dir, 'web', 'agent', 'vendor.json');
  if (!fs.existsSync(list)) continue;
  let map;
  try { map = JSON.parse(fs.readFileSync(list, 'utf8')); } catch (e) { die(`${rel(list)}: not JSON (${e.message})`); }
  if (!map || typeof map !== 'object' || Array.isArray(map)) die(`${rel(list)}: an object of file name -> npm file`);
  for (const [name, from] of Object.entries(map)) {
    if (!/^[a-z0-9][a-z0-9._-]*\.(js|css)$/.test(name)) die(`${rel(list)}: "${name}" is not a file name ending in .js or .css`);
    const src = path.resolve(web, 'node_modules', String(from));
    if (!inside(path.join(web, 'node_modules'), src) || !fs.existsSync(src)) {
      die(`${rel(list)}: "${from}" is not a file in web/node_modules (pin the package in web/package.json)`);
    }
    const key = `assets/vendor/${m.name}/${name}`;
    files.set(key, fs.readFileSync(src));
    vendorFiles.push(key);
  }
}

// gzip -9 copies (zlib's header carries no file name and mtime 0, so the bytes are reproducible).
for (const [name, raw] of [...files]) {
  const gz = zlib.gzipSync(raw, { level: 9 });
  if (gz.length < raw.length) files.set(name + '.gz', gz);
}

function writeIfChanged(file, data) {
  try {
    if (fs.readFileSync(file).equals(data)) return;
  } catch (e) { /* missing: write it */ }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

// Remove what an earlier build left and this one does not make: the binary embeds every file in OUTDIR.
// Only paths this script can create are touched (assets/*, top-level *.gz and *.tmp).
function prune() {
  const assets = path.join(outdir, 'assets');
  if (fs.existsSync(assets)) {
    for (const name of fs.readdirSync(assets)) {
      const kept = files.has('assets/' + name) || [...files.keys()].some((k) => k.startsWith('assets/' + name + '/'));
      if (!kept) fs.rmSync(path.join(assets, name), { recursive: true, force: true });
    }
  }
  if (fs.existsSync(outdir)) {
    for (const name of fs.readdirSync(outdir)) {
      if ((name.endsWith('.gz') || name.endsWith('.tmp')) && !files.has(name)) fs.rmSync(path.join(outdir, name));
    }
  }
}

prune();
const manifest = createHash('sha256');
for (const name of [...files.keys()].sort()) {
  writeIfChanged(path.join(outdir, name), files.get(name));
  manifest.update(name + ' ' + createHash('sha256').update(files.get(name)).digest('hex') + '\n');
}
writeIfChanged(path.join(outdir, '.stamp'), Buffer.from(manifest.digest('hex') + '\n'));

const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
const gzSize = (name) => (files.get(name + '.gz') || files.get(name)).length;
const size = (name) => kb(files.get(name).length) + ' (' + kb(gzSize(name)) + ' gzip)';
const ms = Number(process.hrtime.bigint() - started) / 1e6;
// The agents' app must stay small (issue 5: <= 150 KB gzipped for JS + CSS + HTML); the customer portal, opened on
// phones from a link in a mail, much smaller still.
const BUDGET = 150 * 1024;
const PORTAL_BUDGET = 16 * 1024;
const gzTotal = ['assets/app.js', 'assets/app.css', 'index.html'].reduce((n, name) => n + gzSize(name), 0);
const portalTotal = ['assets/portal.js', 'assets/portal.css', 'portal.html'].reduce((n, name) => n + gzSize(name), 0);
process.stdout.write(`build-web: ${path.relative(process.cwd(), outdir) || '.'}: app.js ${size('assets/app.js')}, ` +
  `app.css ${size('assets/app.css')}, index.html ${size('index.html')} in ${ms.toFixed(0)} ms\n` +
  `build-web: bundle ${kb(gzTotal)} gzip of ${kb(BUDGET)} budget\n` +
  `build-web: portal: portal.js ${size('assets/portal.js')}, portal.css ${size('assets/portal.css')}, ` +
  `portal.html ${size('portal.html')}: ${kb(portalTotal)} gzip of ${kb(PORTAL_BUDGET)} budget\n` +
  (vendorFiles.length ? `build-web: loaded when their screen opens: ${vendorFiles.map((k) => `${k.slice(14)} ${size(k)}`).join(', ')}\n` : ''));
if (gzTotal > BUDGET) die('the bundle is over its budget of 150 KiB gzipped');
if (portalTotal > PORTAL_BUDGET) die('the customer portal is over its budget of 16 KiB gzipped');
