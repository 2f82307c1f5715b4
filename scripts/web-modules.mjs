// What the modules (plugins/<name>/) bring to the two web bundles, found and checked the same way by the build
// (scripts/build-web.mjs) and by the tests (tests/e2e/i18n.test.mjs). See plugins/README.md, "A module's screens
// and pages".
//
//   plugins/<name>/web/agent/index.js     the module's manifest for the agents' app (routes, nav, admin, panels, …)
//   plugins/<name>/web/agent/style.css    optional: its styles, bundled after the core's app.css
//   plugins/<name>/web/portal/index.js    its manifest for the customer portal (pages)
//   plugins/<name>/web/portal/style.css   optional: its styles, bundled after the core's portal.css
//   plugins/<name>/i18n/agent/<lang>.json its agents'-app strings; i18n/portal/<lang>.json its portal strings
//
// The core's own strings are web/agent/i18n/<lang>.json and web/portal/i18n/<lang>.json; they name the languages
// (tr, en), and every module that has strings for a bundle has them in each of those languages, with the same keys.
// A key is defined once across the core and all modules: a second definition fails the build.
import fs from 'node:fs';
import path from 'node:path';

export const APPS = ['agent', 'portal'];

/* A problem in a module's or the core's UI files, worded for the person who wrote them. */
export class WebModuleError extends Error {}

const NAME = /^[a-z0-9_]+$/;

function rel(top, file) {
  return path.relative(top, file).split(path.sep).join('/') || '.';
}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch (e) {
    return false;
  }
}

function isDir(dir) {
  try {
    return fs.statSync(dir).isDirectory();
  } catch (e) {
    return false;
  }
}

/* The modules under pluginsDir that bring UI or strings, sorted by name (plain code-unit order, so every machine
 * bundles them in the same order): [{name, dir, entry: {agent, portal}, style: {agent, portal}, strings: {agent,
 * portal}}], each an absolute path or null. A folder with neither web/ nor i18n/ (plugins/lua, a module without
 * screens) contributes nothing. Throws WebModuleError when a folder has web/<app>/ without its index.js. */
export function findModules(pluginsDir, top) {
  if (!isDir(pluginsDir)) return [];
  const out = [];
  const names = fs.readdirSync(pluginsDir).filter((n) => isDir(path.join(pluginsDir, n))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const dir = path.join(pluginsDir, name);
    const m = { name, dir, entry: {}, style: {}, strings: {} };
    let any = false;
    for (const app of APPS) {
      const webDir = path.join(dir, 'web', app);
      const entry = path.join(webDir, 'index.js');
      const style = path.join(webDir, 'style.css');
      const strings = path.join(dir, 'i18n', app);
      if (isDir(webDir) && !isFile(entry)) {
        throw new WebModuleError(`${rel(top, webDir)}/ has no index.js: a module's ${app === 'agent' ? "agents'-app" : 'portal'} ` +
          'UI starts from its manifest, index.js (plugins/README.md, "A module\'s screens and pages")');
      }
      m.entry[app] = isFile(entry) ? entry : null;
      m.style[app] = isFile(style) ? style : null;
      m.strings[app] = isDir(strings) ? strings : null;
      any = any || !!(m.entry[app] || m.strings[app]);
    }
    if (!any) continue;
    if (!NAME.test(name)) {
      throw new WebModuleError(`${rel(top, dir)}: a module's folder name is lower-case letters, digits and _ (it is the plugin's name)`);
    }
    out.push(m);
  }
  return out;
}

function readStrings(file, top) {
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WebModuleError(`${rel(top, file)}: ${e.message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new WebModuleError(`${rel(top, file)}: not a JSON object`);
  for (const [key, text] of Object.entries(data)) {
    if (typeof text !== 'string') throw new WebModuleError(`${rel(top, file)}: "${key}" is not a string`);
  }
  return data;
}

function langFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/* The strings of one bundle (app: "agent" or "portal"): the core's (coreDir/<lang>.json) and then each module's, in
 * the modules' order, merged into {lang: {key: text}}. Also returns sources: [{owner, file, keys}] (owner "core" or
 * the module's name), which the tests use to check each module on its own. Throws WebModuleError when a language
 * file is missing or has other keys than the same module's first language, or when a key is defined twice. */
export function mergeStrings(app, coreDir, modules, top) {
  if (!isDir(coreDir)) throw new WebModuleError(`${rel(top, coreDir)}/ is missing (the core's ${app} strings)`);
  const langs = langFiles(coreDir);
  if (!langs.length) throw new WebModuleError(`${rel(top, coreDir)}/ has no <lang>.json`);
  const merged = Object.fromEntries(langs.map((l) => [l, {}]));
  const definedBy = new Map();
  const sources = [];
  const add = (owner, dir) => {
    const extra = langFiles(dir).filter((l) => !langs.includes(l));
    if (extra.length) {
      throw new WebModuleError(`${rel(top, dir)}/${extra[0]}.json: the core has no strings in "${extra[0]}" (languages: ${langs.join(', ')})`);
    }
    const byLang = {};
    for (const l of langs) {
      const file = path.join(dir, l + '.json');
      if (!isFile(file)) throw new WebModuleError(`${rel(top, file)} is missing: every language (${langs.join(', ')}) needs its file`);
      byLang[l] = readStrings(file, top);
    }
    const keys = Object.keys(byLang[langs[0]]);
    for (const l of langs.slice(1)) {
      const other = Object.keys(byLang[l]);
      const missing = keys.filter((k) => !(k in byLang[l]));
      const unknown = other.filter((k) => !(k in byLang[langs[0]]));
      if (missing.length || unknown.length) {
        throw new WebModuleError(`${rel(top, path.join(dir, l + '.json'))}: ` +
          (missing.length ? `no "${missing[0]}"` : `"${unknown[0]}" is not in ${langs[0]}.json`) +
          ` (${missing.length + unknown.length} key(s) differ from ${rel(top, path.join(dir, langs[0] + '.json'))})`);
      }
    }
    const file = rel(top, path.join(dir, langs[0] + '.json'));
    for (const key of keys) {
      if (definedBy.has(key)) {
        throw new WebModuleError(`${file}: the key "${key}" is already defined by ${definedBy.get(key)}; a key is defined ` +
          'once (by convention a module\'s keys start with its name)');
      }
      definedBy.set(key, file);
      for (const l of langs) merged[l][key] = byLang[l][key];
    }
    sources.push({ owner, file, keys });
  };
  add('core', coreDir);
  for (const m of modules) if (m.strings[app]) add(m.name, m.strings[app]);
  return { langs, messages: merged, sources };
}
