// Libraries a module's screen loads when it opens (plugins/<name>/web/agent/vendor.json, copied by build-web to
// assets/vendor/<name>/): a <script> or stylesheet <link> added once, the Content-Security-Policy's 'self' allows it.
const loading = new Map();

function add(url) {
  if (!loading.has(url)) {
    loading.set(url, new Promise((resolve, reject) => {
      const css = url.endsWith('.css');
      const el = document.createElement(css ? 'link' : 'script');
      if (css) { el.rel = 'stylesheet'; el.href = url; } else { el.src = url; el.async = true; }
      el.onload = () => resolve();
      el.onerror = () => { loading.delete(url); el.remove(); reject(new Error(`could not load ${url}`)); };
      document.head.appendChild(el);
    }));
  }
  return loading.get(url);
}

/* Loads the module's vendor files (in order) and resolves with window[global] when one is named: for example
 * loadVendor('reports', ['uplot.css', 'uplot.js'], 'uPlot'). */
export async function loadVendor(module, names, global) {
  for (const name of [].concat(names)) await add(`/assets/vendor/${encodeURIComponent(module)}/${encodeURIComponent(name)}`);
  if (!global) return undefined;
  if (!window[global]) throw new Error(`${module}: ${global} is not defined by ${names}`);
  return window[global];
}
