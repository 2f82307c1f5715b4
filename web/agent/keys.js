// Keyboard shortcuts: one document listener; the current page registers its handlers with setKeys().
// Keys are ignored while typing in a field (except Escape). "?" toggles the help, handled by the shell.
let handlers = {};
export function setKeys(map) {
  handlers = map || {};
}
export function startKeys(onHelp) {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const el = e.target;
    const typing = el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
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
