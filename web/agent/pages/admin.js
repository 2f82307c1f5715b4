// /app/admin/<tab>: the administrators' screens, each its own file: the core's under admin/ (listed in ../core.js),
// a module's in its folder (listed in its manifest's `admin`). This file holds only the tab list and the layout.
// The shell shows agents an "admins only" notice at these addresses (the routes are role "admin"), and the server
// refuses them too.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { onLinkClick } from '../router.js';
import { Guard, adminScreens } from '../modules.js';

export function AdminPage({ tab }) {
  const screens = adminScreens();
  const current = screens.find((x) => x.id === tab) || screens[0];
  return html`<div class="admin" data-admin=${current.id}>
    <h1>${t('nav.admin')}</h1>
    <${Tabs} screens=${screens} current=${current} />
    <div class="admin-body"><${Guard} owner=${current.owner} key=${current.id}><${current.screen} /><//></div>
  </div>`;
}

/* On a phone the tabs are one scrolling row: keep the current one in view. */
function Tabs({ screens, current }) {
  const nav = useRef(null);
  useEffect(() => {
    const el = nav.current && nav.current.querySelector('.is-active');
    if (el && nav.current.scrollWidth > nav.current.clientWidth) {
      nav.current.scrollLeft = el.offsetLeft - (nav.current.clientWidth - el.offsetWidth) / 2;
    }
  }, [current.id]);
  return html`<nav class="admin-tabs" ref=${nav} aria-label=${t('admin.sections')}>
      ${screens.map((x) => html`<a href=${'/app/admin/' + x.id} onClick=${onLinkClick} data-tab=${x.id}
        class=${x === current ? 'is-active' : ''} aria-current=${x === current ? 'page' : undefined}>${t(x.label)}</a>`)}
    </nav>`;
}
