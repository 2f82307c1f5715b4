// Slots of the portal's pages: a page offers a place by name (slot('contact.subject', props)) and every installed
// module's portal manifest that declares a panel for it (panels: [{slot, id, panel, order}]) fills it; panel(props)
// returns a node or null. A panel that throws is left out (logged), so one module cannot break another's page.
import installed from 'destek:modules';

export function slot(name, props) {
  const found = [];
  for (const { name: owner, manifest } of installed) {
    for (const p of manifest.panels || []) if (p.slot === name) found.push({ owner, p });
  }
  found.sort((a, b) => (a.p.order || 0) - (b.p.order || 0));
  const out = [];
  for (const { owner, p } of found) {
    try {
      const node = p.panel(props);
      if (node) out.push(node);
    } catch (e) {
      console.error(`destek: module ${owner}: panel ${p.id || '?'} in slot ${name} failed`, e);
    }
  }
  return out;
}
