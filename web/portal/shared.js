// What a module's portal pages may use of the customer portal: import it as '@destek/portal' (scripts/build-web.mjs
// maps the alias here), never by a relative path into web/, which the build refuses. This list is the contract: a
// name that a module uses stays, and a name may be added; what is not here may change.
export { fill, h, icon, linkify, utf8Bytes } from './dom.js';
export { LANGS, formatDate, formatSize, lang, t } from './i18n.js';
export { ApiError, api, config, loadConfig, shop } from './api.js';
export { explain } from './errors.js';
export { alert, control, field } from './fields.js';
export { checkFiles, filePicker, readFiles } from './files.js';
export { slot } from './slots.js';
