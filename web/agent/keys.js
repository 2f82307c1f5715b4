// Keyboard shortcuts: one document listener; the current page registers its handlers with setKeys().
// Keys are ignored while typing in a field (except Escape). "?" toggles the help, handled by the shell.
let handlers = {};
// Inputs one does not type into: after ticking a row's checkbox, j/k still move.
const NOT_TYPING = new Set(['checkbox', 'radio', 'button', 'submit', 'reset']);
export function setKeys(map) {
  handlers = map || {};
}
export function startKeys(onHelp) {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const el = e.target;
    const typing = el && (el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName) ||
      (el.tagName === 'INPUT' && !NOT_TYPING.has(el.type)));
    if (typing) {
      if (e.key === 'Escape' && el.blur) el.blur();
      return;
    }
    if (e.key === '?') {
      e.preventDefault();
      onHelp();
      return;
    }
    if (e.key === 'Enter' && el && /^(A|BUTTON)$/.test(el.tagName)) return;
    const fn = handlers[e.key];
    if (fn) {
      e.preventDefault();
      fn(e);
    }
  });
}
