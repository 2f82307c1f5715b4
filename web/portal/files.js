// Files a customer attaches (the form and the reply box): picked (several times over), listed with a remove
// button, checked against the server's limits before anything is sent, and read as base64 for the JSON body.
import { fill, h, icon, utf8Bytes } from './dom.js';
import { formatSize, t } from './i18n.js';
import { config } from './api.js';

/* The file field. holder.files is the list (kept by the caller, so it survives a re-render); error is shown under
 * it; onChange runs when the list changes. */
export function filePicker(id, holder, error, onChange) {
  const L = config.limits;
  const list = h('ul', { class: 'files', 'aria-label': t('files.list') });
  const input = h('input', {
    type: 'file', id, multiple: true, class: 'file-input',
    'aria-describedby': id + '-hint' + (error ? ' ' + id + '-error' : ''),
    onChange() {
      holder.files = holder.files.concat(Array.from(input.files || []));
      input.value = '';
      show();
      onChange();
    },
  });
  function show() {
    fill(list, holder.files.map((f, i) => h('li', { class: 'file' },
      icon('file'),
      h('span', { class: 'file-name' }, f.name),
      h('span', { class: 'file-size' }, formatSize(f.size)),
      h('button', {
        type: 'button', class: 'icon-btn', 'aria-label': t('files.remove', { name: f.name }),
        onClick() {
          holder.files = holder.files.filter((x, j) => j !== i);
          show();
          onChange();
          input.focus();
        },
      }, icon('x')))));
    list.hidden = !holder.files.length;
  }
  show();
  return h('div', { class: 'field field-files' + (error ? ' field-invalid' : '') },
    input,
    h('label', { for: id, class: 'btn btn-ghost btn-file' }, icon('clip'), t('files.add'),
      h('span', { class: 'optional' }, ' (' + t('form.optional') + ')')),
    h('p', { class: 'field-hint', id: id + '-hint' },
      t('files.hint', { count: L.attachments, size: formatSize(L.attachment_bytes) })),
    list,
    error ? h('p', { class: 'field-error', id: id + '-error' }, error) : null);
}

/* What is wrong with files under the server's limits, or null. textBytes: the rest of the request. */
export function checkFiles(files, textBytes) {
  const L = config.limits;
  if (files.length > L.attachments) return t('valid.too_many_files', { count: L.attachments });
  let total = textBytes + 1024;
  for (const f of files) {
    if (f.size > L.attachment_bytes) return t('valid.file_too_large', { name: f.name, size: formatSize(L.attachment_bytes) });
    total += Math.ceil(f.size / 3) * 4 + utf8Bytes(f.name) + 100;
  }
  // base64 in JSON makes files a third larger: say what the files may weigh together.
  if (total > L.request_bytes) return t('valid.files_too_large', { size: formatSize(Math.floor(L.request_bytes * 3 / 4)) });
  return null;
}

/* A name the server accepts (1 to 200 bytes, no / \ " or control characters). */
function safeName(name) {
  let s = String(name || '').replace(/[\u0000-\u001f\u007f/\\"]/g, '_');
  while (utf8Bytes(s) > 200) s = Array.from(s).slice(0, -1).join('');
  return s && s !== '.' && s !== '..' ? s : 'file';
}

/* [{filename, content_type, data_base64}] for the API; rejects with {file} when one cannot be read. */
export function readFiles(files) {
  return Promise.all(files.map((f) => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const url = String(r.result);
      const type = (f.type || '').toLowerCase();
      const a = { filename: safeName(f.name), data_base64: url.slice(url.indexOf(',') + 1) };
      if (type.length <= 100 && /^[a-z0-9.+_-]+\/[a-z0-9.+_-]+$/.test(type)) a.content_type = type;
      resolve(a);
    };
    r.onerror = () => reject({ file: f });
    r.readAsDataURL(f);
  })));
}
