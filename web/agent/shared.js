// What a module's screens may use of the agents' app: import it as '@destek/agent' (scripts/build-web.mjs maps the
// alias here), never by a relative path into web/, which the build refuses. This list is the contract: a name that
// a module uses stays, and a name may be added; what is not here is the core's own business and may change.
// Modules import preact, preact/hooks and htm themselves (the same copies the app uses).
export { html } from './html.js';
export { t, formatDate, LANGS } from './i18n.js';
export { api, ApiError } from './api.js';
export { store, useStore, createStore } from './store.js';
export { navigate, onLinkClick, queryParam } from './router.js';
export { Alert, Field, errorText, validateEmail } from './components.js';
export { ago, bytes, dateTime, duration, locale, number, when } from './format.js';
export { setKeys } from './keys.js';
export { liveState, setPresence, subscribe, useLiveRefresh, useLiveState } from './live.js';
export { Slot } from './modules.js';
// A library a module's screen loads when it opens (plugins/<name>/web/agent/vendor.json).
export { loadVendor } from './vendor.js';
// The colleague directory: names, roles, online and teams of everyone, for every signed-in user.
export { OnlineDot, loadDirectory, person, personName, resetDirectory, useDirectory } from './directory.js';
// The admin screens' pieces (lists, forms, tables, confirmation), for a module's admin screens.
export { ActiveBadge, Empty, ErrorAlert, F, FormActions, MoreButton, MoveButtons, NewButton, SecretOnce, Section, Table,
  adminErrorText, fieldMessage, hoursMinutes, insertAt, placeCaret, reorder, required, splitList, useConfirm,
  useFocusOnMount, useForm, useList, useUsers } from './pages/admin/common.js';
// The settings as grouped forms (labels in the admin's language, units); `only` picks which (a module's own screen).
export { SettingsForm } from './pages/admin/settings.js';
