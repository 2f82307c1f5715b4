// A whole module written in Lua, against the real binary: tests/lua/notes/ (a folder module: notes per contact, with
// a table, agent routes with cursors and uploads, a public page from templates, a signed link, a service, a
// subscriber, a one-shot timer, an audit entry and live updates), and tests/lua/module_api.lua, which tries the same
// parts of the destek module one by one. The test-only C plugins hostapi and svcclient (tests/plugins/) stand for the
// C modules on the other side of services.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';

import {
  BIN, ROOT, T, assertError, assertSecurityHeaders, assertSubset, auditAll, cleanup, createToken, createUser,
  eventually, login, request, setupAdmin, startServer, tempDir, uniqueEmail,
} from './lib.mjs';
import {wsConnect} from './ws.mjs';

const LUA = path.join(ROOT, 'tests/lua');
const C_PLUGINS = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins');

/** A data directory with the notes folder, module_api.lua and the C test plugins in plugins/. */
function dataDir() {
  const dir = tempDir('destek-luamod-');
  fs.chmodSync(dir, 0o700);
  fs.mkdirSync(path.join(dir, 'plugins'));
  fs.cpSync(path.join(LUA, 'notes'), path.join(dir, 'plugins', 'notes'), {recursive: true});
  fs.copyFileSync(path.join(LUA, 'module_api.lua'), path.join(dir, 'plugins', 'module_api.lua'));
  for (const so of ['hostapi', 'svcclient']) fs.copyFileSync(path.join(C_PLUGINS, `${so}.so`), path.join(dir, 'plugins', `${so}.so`));
  return dir;
}

/** A multipart/form-data body of fields {name: value} and files [{field, filename, type, data}]. */
function multipart(fields = {}, files = []) {
  const boundary = '----destek' + Math.random().toString(16).slice(2);
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field || 'file'}"; ` +
      `filename="${f.filename}"\r\nContent-Type: ${f.type || 'application/octet-stream'}\r\n\r\n`));
    parts.push(Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}`};
}

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(40, 1)]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), Buffer.alloc(30, 2)]);
const GIF = Buffer.from('GIF89a' + 'x'.repeat(20));
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), Buffer.alloc(20)]);
const HOSTILE = '<script>alert("x")</script>\n" onmouseover="alert(1)" \'&{{t.title}}';

let server, admin, agent, agentB, token, customer, otherCustomer;
const logged = (re) => server.waitStderr(re, T(3000), `a log line matching ${re}`);
const api = (method, p, body, session = agent) => server.api(method, p, {session, body});

/** Creates a ticket (and so a customer); resolves the ticket. */
async function newTicket(name, subject = 'Kargom nerede?') {
  const res = await api('POST', '/api/v1/tickets', {subject, body: 'Merhaba', customer: {email: uniqueEmail('cust'), name}});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

async function addNote(contactId, body, extra = {}) {
  const res = await api('POST', '/api/v1/notes', {contact_id: contactId, body, ...extra});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const upload = (p, form) => server.api('POST', p, {token, rawBody: form.body, contentType: form.contentType});

before(async () => {
  server = await startServer({dataDir: dataDir()});
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {role: 'agent', name: 'Ayşe Ajan', lang: 'tr'});
  agent = await login(server, a.email, a.password);
  const b = await createUser(server, admin, {role: 'agent', name: 'Burak Ajan'});
  agentB = await login(server, b.email, b.password);
  token = (await createToken(server, admin, {scopes: ['agent']})).secret;
  const t1 = await newTicket('<img src=x onerror=alert(1)> Ayşe');
  const t2 = await newTicket('Mehmet');
  const id = async (t) => (await api('GET', `/api/v1/tickets/${t.id}`)).json.customer.id;
  customer = await id(t1);
  otherCustomer = await id(t2);
});
after(cleanup);

// ---------------------------------------------------------------------------------------------------------------

describe('a module that is a folder', () => {
  test('loads with its own files: require, migrations/*.sql, i18n/*.json, templates/, static/', async () => {
    await logged(/INFO lua: loaded notes 1\.0\.0 \(.*plugins\/notes\): 11 routes, 1 subscription, 0 jobs/);
    await logged(/applied migration notes\/001_notes\.sql/);
    await logged(/applied migration notes\/002_search\.sql/);
    const list = await server.api('GET', '/api/v1/plugins', {session: admin});
    assertSubset(list.json.items.find((p) => p.name === 'notes'), {version: '1.0.0', kind: 'lua', source: /plugins\/notes$/});
    const css = await server.api('GET', '/notes-static/notes.css');
    assert.equal(css.status, 200);
    assert.match(css.headers['content-type'], /^text\/css/);
    assert.match(css.text, /max-width: 40rem/);
    assert.equal((await server.api('GET', '/notes-static/nope.css')).status, 404);
    assert.equal((await server.api('GET', '/notes-static/..%2Finit.lua')).status, 404);
    const again = await server.api('GET', '/notes-static/notes.css', {headers: {'If-None-Match': css.headers.etag}});
    assert.equal(again.status, 304);
  });

  test('declarations a plugin may not make are refused with a reason', async () => {
    const r = (await server.api('GET', '/modapi/refused')).json;
    assert.match(r.init.service, /'notes\.steal' is not a name of this plugin's/);
    assert.match(r.init.timer, /'other\.kind' is not a timer kind of this plugin's/);
    assert.match(r.init.live, /ticket\.\* names events that are not this plugin's/);
    assert.match(r.init.subjects, /'ticket' is not a subject kind of this plugin's/);
    assert.match(r.init.page, /\/api\/ is the server's own/);
    assert.match(r.init.route_opts, /max_body must be a whole number/);
    assert.match(r.late, /declare it from the plugin's init/);
  });
});

describe('agent routes', () => {
  test('notes are listed newest first, with ?limit and ?cursor as the core\'s lists', async () => {
    for (let i = 1; i <= 5; i++) await addNote(otherCustomer, `not ${i}`);
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await api('GET', `/api/v1/notes?contact_id=${otherCustomer}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.items.length <= 2);
      seen.push(...res.json.items);
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    const mine = seen.filter((n) => n.source === 'agent').map((n) => n.body);
    assert.deepEqual(mine, ['not 5', 'not 4', 'not 3', 'not 2', 'not 1']);
    assert.deepEqual(seen.map((n) => n.id), [...seen.map((n) => n.id)].sort((a, b) => b - a));
    const empty = await api('GET', '/api/v1/notes?contact_id=999999');
    assert.deepEqual(empty.json, {items: [], next_cursor: null});
    assertError(await api('GET', '/api/v1/notes?contact_id=1&cursor=bogus'), 422, 'invalid_field', 'cursor');
    assertError(await api('GET', '/api/v1/notes?contact_id=1&limit=500'), 422, 'invalid_field', 'limit');
    assertError(await api('GET', '/api/v1/notes'), 422, 'missing_field', 'contact_id');
    assertError(await server.api('GET', `/api/v1/notes?contact_id=${customer}`), 401, 'unauthenticated');
  });

  test('a note is checked: its contact exists, its body is 1 to 4000 bytes', async () => {
    assertError(await api('POST', '/api/v1/notes', {contact_id: 999999, body: 'x'}), 422, 'invalid_field', 'contact_id');
    assertError(await api('POST', '/api/v1/notes', {contact_id: customer, body: ''}), 422, 'invalid_field', 'body');
    assertError(await api('POST', '/api/v1/notes', {contact_id: customer, body: 'x'.repeat(4001)}), 422, 'invalid_field', 'body');
    assertError(await server.api('POST', '/api/v1/notes', {session: agent, rawBody: '"x"'}), 400, 'bad_json');
  });

  test('error values: raised or returned, with a field; an unguarded service error passes its own', async () => {
    assertError(await server.api('GET', '/modapi/error/raise'), 409, 'taken', 'name');
    assertError(await server.api('GET', '/modapi/error/return'), 404, 'not_found');
    const absent = await server.api('GET', '/modapi/error/assert');
    assertError(absent, 501, 'service_unavailable');
    assert.match(absent.json.error.message, /nothere\.find/);
    assert.match((await server.api('GET', '/modapi/error/bad')).json.bad, /an HTTP error status/);
  });

  test('cursor and list in a plugin of its own: pages of ids, the last page has no cursor', async () => {
    const ids = [];
    let cursor = '';
    for (let i = 0; i < 10 && cursor !== null; i++) {
      const res = await server.api('GET', `/modapi/list?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...res.json.items.map((x) => x.id));
      cursor = res.json.next_cursor;
    }
    assert.deepEqual(ids, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });
});

describe('the subscriber, the service and the audit log', () => {
  test('ticket.created leaves one note about the ticket\'s customer', async () => {
    const t = await newTicket('Zeynep', 'Fatura yanlış');
    const c = (await api('GET', `/api/v1/tickets/${t.id}`)).json.customer.id;
    const notes = await eventually(async () => (await api('GET', `/api/v1/notes?contact_id=${c}`)).json.items,
      (items) => items.length > 0);
    assert.equal(notes.length, 1);
    assertSubset(notes[0], {source: 'ticket', body: `Ticket ${t.reference} opened: Fatura yanlış`, contact_id: c});
  });

  test('a C module calls the Lua service notes.add (and its errors come back); a Lua one calls C and Lua services', async () => {
    const added = await server.api('POST', '/svcclient/call', {session: agent,
      body: {service: 'notes.add', args: {contact_id: customer, body: 'from a C module'}}});
    assert.equal(added.status, 200, added.text);
    assert.ok(added.json.result.id > 0);
    const note = await api('GET', `/api/v1/notes/${added.json.result.id}`);
    assertSubset(note.json, {body: 'from a C module', source: 'service', contact_id: customer});
    assertError(await server.api('POST', '/svcclient/call', {session: agent,
      body: {service: 'notes.add', args: {contact_id: 999999, body: 'x'}}}), 422, 'invalid_field', 'contact_id');
    const count = await server.api('POST', '/svcclient/call', {session: agent,
      body: {service: 'notes.count', args: {contact_id: customer}}});
    assert.ok(count.json.result.count >= 1, count.text);

    const call = (service, args, extra = {}) => server.api('POST', '/modapi/call', {session: agent, body: {service, args, ...extra}});
    const c1 = await call('hostapi.item_add', {name: 'from lua'});
    assertSubset(c1.json, {ok: true, result: {id: (v) => v > 0}});
    assertSubset((await call('hostapi.fail', {name: 'x'})).json, {ok: false, status: 409, code: 'conflict_here'});
    const who = await call('hostapi.whoami', {});
    assert.equal(who.json.ok, true, who.text);
    assertSubset((await call('hostapi.item_add', {})).json, {ok: false, status: 422});
    assertSubset((await call('nothere.find', {})).json, {ok: false, status: 501, code: 'service_unavailable',
      message: /no module provides the service nothere\.find/, text: /nothere\.find/});
    assertSubset((await call('notes.count', {contact_id: customer})).json, {ok: true, result: {count: count.json.result.count}});
    assertSubset((await call('module_api.echo', {a: [1, 'ç']})).json, {ok: true, result: {echo: {a: [1, 'ç']}, who: 'module_api'}});
    assertSubset((await call('module_api.fail', {})).json, {ok: false, status: 409, code: 'conflict', field: 'gadget'});
    assertSubset((await call('module_api.fail', {raise_plain: true})).json, {ok: false, status: 500, code: 'service_failed'});
    await logged(/ERROR module_api: service module_api\.fail failed: module_api\.lua:\d+: a plain error/);
    assertSubset((await call('module_api.emit', {name: 'forbidden'})).json, {ok: false, status: 422, code: 'vetoed'});
    assert.deepEqual((await server.api('GET', '/modapi/log')).json.filter((r) => /failing/.test(r.text)), [],
      'what a failing service wrote is taken back');
    assertError(await call('nothere.find', {}, {raise: true}), 501, 'service_unavailable');
  });

  test('a note on a ticket asks ticketing.note; without that service the note is kept and says so', async () => {
    const t = await newTicket('Deniz');
    const c = (await api('GET', `/api/v1/tickets/${t.id}`)).json.customer.id;
    const res = await addNote(c, 'Kargo firması aradı.', {ticket_id: t.id});
    assert.ok(['added', 'service_unavailable'].includes(res.ticket_note), res.ticket_note);
  });

  test('adding a note is audited, as the agent who did it', async () => {
    const n = await addNote(customer, 'denetim');
    const items = await auditAll(server, admin);
    assertSubset(items.find((i) => i.action === 'notes.added' && i.target === `note:${n.id}`),
      {actor: agent.email, detail: {contact_id: customer}});
  });
});

describe('the public page', () => {
  test('a signed link opens a server-rendered page where the person\'s text stays text', async () => {
    const n = await addNote(customer, HOSTILE);
    assert.match(n.link, new RegExp(`^/n/${n.id}\\?sig=\\d+-[0-9a-f]{32}$`));
    const page = await server.api('GET', n.link, {headers: {'Accept-Language': 'tr-TR,tr;q=0.9'}});
    assert.equal(page.status, 200, page.text);
    assert.match(page.headers['content-type'], /^text\/html; charset=utf-8/);
    assertSecurityHeaders(page, 'the note page');
    assert.equal(page.headers['x-robots-tag'], 'noindex, nofollow');
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.match(page.text, /<html lang="tr">/);
    assert.match(page.text, /<h1>Not<\/h1>/);
    assert.doesNotMatch(page.text, /<script|<img|onerror=alert|" onmouseover/);
    assert.match(page.text, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;<br>/);
    assert.match(page.text, /&quot; onmouseover&#61;&quot;alert\(1\)&quot; &#39;&amp;\{\{t.title\}\}/, 'a tag in the text is not a tag');
    assert.match(page.text, /<title>Not · &lt;img src&#61;x onerror&#61;alert\(1\)&gt; Ayşe<\/title>/);
    assert.match(page.text, /data-contact="&lt;img src&#61;x onerror&#61;alert\(1\)&gt; Ayşe"/);
    const en = await server.api('GET', n.link);
    assert.match(en.text, /<h1>Note<\/h1>/);
    const cached = await server.api('GET', n.link, {headers: {'If-None-Match': en.headers.etag}});
    assert.equal(cached.status, 304);
  });

  test('a wrong, another plugin\'s or an expired signature opens nothing', async () => {
    const n = await addNote(customer, 'gizli');
    const sig = new URL(n.link, server.url).searchParams.get('sig');
    // The last hex digit changed (to 0, or to 1 when it is 0: one signature in 16 ends in 0).
    const wrong = await server.api('GET', `/n/${n.id}?sig=${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
    assert.equal(wrong.status, 404);
    assert.match(wrong.headers['content-type'], /^text\/html/);
    assert.match(wrong.text, /This link does not work/);
    assert.doesNotMatch(wrong.text, /gizli/);
    assert.equal((await server.api('GET', `/n/${n.id}`)).status, 404);
    assert.equal((await server.api('GET', `/n/${n.id + 1000}?sig=${sig}`)).status, 404);
    // module_api signs the same text with its own key: it does not open notes' page.
    const forged = (await server.api('GET', `/modapi/sign?text=note:${n.id}`)).json;
    assert.equal((await server.api('GET', `/n/${n.id}?sig=${forged.soon}`)).status, 404);
    assert.equal((await server.api('GET', `/n/${n.id}?sig=${forged.forever}`)).status, 404);

    const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'notes.link_days': 0}});
    assert.equal(set.status, 200, set.text);
    const short = (await api('GET', `/api/v1/notes/${n.id}`)).json.link;
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await server.api('GET', short);
    assert.equal(expired.status, 410);
    assert.match(expired.text, /expired/);
    await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'notes.link_days': 7}});
  });

  test('a form without JavaScript: the contact says they saw the note (urlencoded, 303 back to the page)', async () => {
    const n = await addNote(customer, 'görüldü mü?');
    const sig = new URL(n.link, server.url).searchParams.get('sig');
    const page = await server.api('GET', n.link);
    assert.match(page.text, new RegExp(`<form method="post" action="/n/${n.id}/seen">`));
    assert.match(page.text, new RegExp(`name="sig" value="${sig}"`));
    const bad = await server.api('POST', `/n/${n.id}/seen`, {rawBody: 'sig=nope', contentType: 'application/x-www-form-urlencoded'});
    assert.equal(bad.status, 404);
    const ok = await server.api('POST', `/n/${n.id}/seen`, {rawBody: `sig=${encodeURIComponent(sig)}&x=%C3%A7`,
      contentType: 'application/x-www-form-urlencoded'});
    assert.equal(ok.status, 303, ok.text);
    assert.equal(ok.headers.location, n.link);
    assert.match((await server.api('GET', n.link)).text, /You have seen this note/);
    // Signed in to the agents' app, a person who posts the page's form (no X-CSRF-Token) is taken for a stranger.
    const asAgent = await server.api('POST', `/n/${n.id}/seen`, {session: agent, csrf: false,
      rawBody: `sig=${encodeURIComponent(sig)}`, contentType: 'application/x-www-form-urlencoded'});
    assert.equal(asAgent.status, 303, asAgent.text);
    assertError(await server.api('POST', '/api/v1/notes', {session: agent, csrf: false, body: {contact_id: customer, body: 'x'}}),
      403, 'csrf_failed');
    assert.ok((await api('GET', `/api/v1/notes/${n.id}`)).json.seen_at > 0);
    const big = await server.api('POST', `/n/${n.id}/seen`, {rawBody: 'sig=' + 'x'.repeat(5000),
      contentType: 'application/x-www-form-urlencoded'});
    assertError(big, 413, 'body_too_large');
  });
});

describe('templates and HTML values', () => {
  const render = async (template, data, html) => (await server.api('POST', '/modapi/render', {body: {template, data, html}})).json;

  test('{{x}} escapes; sections, inverted sections, lists, dotted names, list items, partials', async () => {
    assert.deepEqual(await render('<p title="{{t}}">{{t}}</p>', {t: `<b a='1'>&"=\``}),
      {ok: true, out: '<p title="&lt;b a&#61;&#39;1&#39;&gt;&amp;&quot;&#61;&#96;">&lt;b a&#61;&#39;1&#39;&gt;&amp;&quot;&#61;&#96;</p>', is_html: true});
    const tpl = '{{#items}}<li>{{name}}{{#tags}} #{{.}}{{/tags}}</li>{{/items}}{{^items}}none{{/items}}' +
      '{{#user}}[{{user.name}}|{{name}}|{{top}}]{{/user}}{{#flag}}F{{/flag}}{{^flag}}!F{{/flag}}{{items.2.name}}{{! a comment }}' +
      '{{n}} {{f}} {{yes}}{{no}}{{missing}}{{#empty}}E{{/empty}}{{#blank}}B{{/blank}}';
    const out = await render(tpl, {items: [{name: 'a', tags: ['x', 'y']}, {name: '<b>'}], user: {name: 'U'}, top: 'T',
      flag: false, n: 42, f: 1.5, yes: true, no: false, empty: [], blank: ''});
    assert.equal(out.out, '<li>a #x #y</li><li>&lt;b&gt;</li>[U|U|T]!F&lt;b&gt;42 1.5 true');
    assert.equal((await render('{{^items}}none{{/items}}', {items: []})).out, 'none');
  });

  test('{{{x}}} inserts only HTML the host made, never a plugin\'s string', async () => {
    const ok = await render('<div>{{{html}}}</div>|{{html}}', {}, 'a<b>\nc');
    assert.equal(ok.out, '<div>a&lt;b&gt;<br>\nc</div>|a&amp;lt;b&amp;gt;&lt;br&gt;\nc');
    const raw = await render('{{{x}}}', {x: '<script>alert(1)</script>'});
    assert.equal(raw.ok, false);
    assert.match(raw.err, /template \(string\):1: \{\{\{x\}\}\} inserts HTML as it is, and only HTML the host made/);
    assert.match((await render('{{& x}}', {x: '<b>'})).err, /only HTML the host made/);
    assert.equal((await render('[{{{nothing}}}]', {})).out, '[]');
  });

  test('template errors name the template and the line', async () => {
    assert.match((await render('a\n{{#x}}b', {x: true})).err, /template \(string\):2: \{\{#x\}\} is not closed/);
    assert.match((await render('{{/x}}', {})).err, /closes a section that is not open/);
    assert.match((await render('{{x', {})).err, /a tag is not closed/);
    assert.match((await render('{{=<% %>=}}', {})).err, /delimiters is not supported/);
    assert.match((await render('{{t}}', {t: {a: 1}})).err, /is a table or a function/);
    assert.match((await render('{{> nope}}', {})).err, /no template nope/);
  });

  test('named templates and partials of a single-file plugin, its strings, HTML helpers', async () => {
    const r = (await server.api('GET', '/modapi/render-named', {headers: {'Accept-Language': 'tr'}})).json;
    assert.equal(r.greet, 'Merhaba &lt;Ayşe&gt;! — Destek &amp; Co');
    assert.equal(r.nested, '<p>Merhaba &lt;Ayşe&gt;! — Destek &amp; Co</p>');
    assert.match(r.missing, /render: no template nope/);
    assert.match(r.loop, /partials nested more than 16 deep/);
    assert.match(r.bad_name, /no template \.\.\/etc\/passwd/);
    assert.deepEqual(r.strings_en, {hi: 'Hi', only_en: 'English'});
    assert.deepEqual(r.strings_tr, {hi: 'Selam', only_en: 'English'});
    assert.equal(r.lang, 'tr');
    const h = (await server.api('GET', '/modapi/html')).json;
    assert.equal(h.escape, '&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(h.lines, 'a&lt;b&gt;<br>\nc');
    assert.doesNotMatch(h.sanitize, /script|onclick|javascript/);
    assert.match(h.sanitize, /ok/);
    assert.deepEqual(h.urls, ['https://example.com/a', '#', '/help/x', '#', '#']);
    assert.equal(h.meta, 'html');
  });

  test('a page is a route that returns HTML; rendering is charged to the call\'s budget', async () => {
    const p = await server.api('GET', '/modapi/page?title=%3Ci%3E');
    assert.equal(p.text, '<h1>&lt;i&gt;</h1>');
    assert.match(p.headers['content-type'], /^text\/html/);
    assert.ok(p.headers.etag);
    const big = await server.api('GET', '/modapi/big-page');
    assertError(big, 500, 'plugin_error');
    await logged(/ERROR module_api: GET \/modapi\/big-page failed: .*(ran past its time limit|ran out of its instruction budget|too big)/);
    assert.equal((await server.api('GET', '/modapi/page')).status, 200);
  });
});

describe('search', () => {
  test('Turkish folding both ways, prefixes, ranked, with highlighted snippets; typed syntax stays words', async () => {
    const c = otherCustomer;
    const a = await addNote(c, 'Kullanıcı girişi yapılamıyor, şifre sıfırlandı.');
    const b = await addNote(c, 'IŞIK sensörü arızalı; müşteri İade talep etti.');
    const search = async (q) => (await api('GET', `/api/v1/notes/search?q=${encodeURIComponent(q)}`)).json.items;
    assert.deepEqual((await search('kullanici')).map((x) => x.id), [a.id]);
    assert.deepEqual((await search('KULLANICI')).map((x) => x.id), [a.id]);
    assert.deepEqual((await search('ışık')).map((x) => x.id), [b.id]);
    assert.deepEqual((await search('isik')).map((x) => x.id), [b.id]);
    assert.deepEqual((await search('iade')).map((x) => x.id), [b.id]);
    assert.deepEqual((await search('kulla sifre')).map((x) => x.id), [a.id], 'prefixes, every word');
    assert.deepEqual(await search('kullanici iade'), []);
    assert.equal((await search('kullanici'))[0].snippet, '<mark>Kullanıcı</mark> girişi yapılamıyor, şifre sıfırlandı.');
    for (const q of ['" OR body:*', 'NEAR(a b)', 'x AND', '*', '"', '-kullanici', 'body:kullanici']) {
      const res = await api('GET', `/api/v1/notes/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, `${q}: ${res.text}`);
    }
    const t = (await server.api('GET', `/modapi/text?q=${encodeURIComponent('İADE "x" OR y* ışık')}&text=${encodeURIComponent('Bir <b>iade</b> ve IŞIK')}`)).json;
    assert.deepEqual(t, {fold: 'iade "x" or y* isik', query: '"iade"* "x" "or" "y" "isik"*',
      snippet: 'Bir &lt;b&gt;<mark>iade</mark>&lt;/b&gt; ve <mark>IŞIK</mark>', snippet_is_html: true});
    assert.deepEqual((await server.api('GET', '/modapi/text?q=%20%21%21')).json, {fold: ' !!', snippet_is_html: false});
  });
});

describe('files', () => {
  test('uploads are stored by the host and served back with a type from their bytes', async () => {
    const n = await addNote(customer, 'dosyalı');
    const form = multipart({}, [
      {filename: 'photo.png', type: 'image/png', data: PNG},
      {filename: 'C:\\Users\\ayse\\evil %22x%22.html', type: 'image/png', data: '<script>alert(1)</script>'},
    ]);
    const res = await upload(`/api/v1/notes/${n.id}/files`, form);
    assert.equal(res.status, 201, res.text);
    assertSubset(res.json.items, [{filename: 'photo.png', type: 'image/png', size: PNG.length},
      {filename: 'evil x.html', type: 'application/octet-stream', size: 25}]);
    const [img, html] = res.json.items;
    const got = await server.api('GET', `/api/v1/notes/${n.id}/files/${img.id}`, {token});
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'image/png');
    assert.ok(got.body.equals(PNG));
    assert.match(got.headers['content-disposition'], /^inline; filename="photo\.png"/);
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    assert.match(got.headers['content-security-policy'], /sandbox/);
    const dl = await server.api('GET', `/api/v1/notes/${n.id}/files/${html.id}`, {token});
    assert.equal(dl.headers['content-type'], 'application/octet-stream');
    assert.match(dl.headers['content-disposition'], /^attachment; filename="evil x\.html"; filename\*=UTF-8''evil%20x\.html/);
    assert.equal(dl.text, '<script>alert(1)</script>');
    assert.equal((await server.api('GET', `/api/v1/notes/${n.id}/files/999`, {token})).status, 404);
    const again = await server.api('GET', `/api/v1/notes/${n.id}/files/${img.id}`, {token, headers: {'If-None-Match': got.headers.etag}});
    assert.equal(again.status, 304);
    // On disk: under <data>/files/notes/, named by a random id, readable by the server's user alone.
    const dir = path.join(server.dataDir, 'files', 'notes');
    const stored = fs.readdirSync(dir);
    assert.ok(stored.length >= 2 && stored.every((f) => /^f[0-9a-f]{32}$/.test(f)), stored.join(' '));
    assert.equal(fs.statSync(path.join(dir, stored[0])).mode & 0o777, 0o600);
    const note = await api('GET', `/api/v1/notes/${n.id}`);
    assert.equal(note.json.files.length, 2);
    const page = await server.api('GET', note.json.link);
    assert.match(page.text, /<h2>Files<\/h2>/);
    assert.ok(page.text.includes(`<li>photo.png (${PNG.length} B)</li>`), page.text);
  });

  test('a route\'s upload rules: images only (by their bytes), how many, how big', async () => {
    const n = await addNote(customer, 'resimli');
    const ok = await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [
      {filename: 'a.jpg', data: JPEG, type: 'text/plain'}, {filename: 'b.gif', data: GIF}]));
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.json.items.map((i) => i.type), ['image/jpeg', 'image/gif']);
    const webp = await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [{filename: 'c.webp', data: WEBP}]));
    assert.equal(webp.json.items[0].type, 'image/webp');
    assertError(await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [
      {filename: 'fake.png', type: 'image/png', data: '<svg onload="alert(1)"></svg>'}])), 415, 'not_an_image');
    assertError(await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [
      {filename: '1.png', data: PNG}, {filename: '2.png', data: PNG}, {filename: '3.png', data: PNG}])), 413, 'too_many_files');
    assertError(await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [
      {filename: 'big.png', data: Buffer.concat([PNG, Buffer.alloc(200001)])}])), 413, 'file_too_large');
    assertError(await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [
      {filename: '1.png', data: Buffer.alloc(300000)}, {filename: '2.png', data: Buffer.alloc(300000)}])),
    413, 'body_too_large');
    assertError(await upload(`/api/v1/notes/${n.id}/images`, multipart({}, [])), 422, 'missing_field');
    assertError(await upload(`/api/v1/notes/${n.id}/images`, {body: Buffer.from('--x\r\nbroken'),
      contentType: 'multipart/form-data; boundary=x'}), 400, 'bad_form');
    assertError(await upload('/api/v1/notes/999999/images', multipart({}, [{filename: 'a.png', data: PNG}])), 404, 'not_found');
  });

  test('req.form and req.files of a multipart body; a refusal a route may catch; what save takes', async () => {
    const form = multipart({title: 'Başlık', note: 'a&b=c'}, [{field: 'doc', filename: 'a.txt', type: 'text/plain', data: 'hello'}]);
    const res = await server.api('POST', '/modapi/form', {rawBody: form.body, contentType: form.contentType});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {form: {title: 'Başlık', note: 'a&b=c'}, ip: '127.0.0.1',
      files: [{field: 'doc', filename: 'a.txt', size: 5, type: 'application/octet-stream', image: false, declared_type: 'text/plain'}]});
    const empty = multipart({a: '1'}, [{filename: '', data: ''}]);
    assert.deepEqual((await server.api('POST', '/modapi/form', {rawBody: empty.body, contentType: empty.contentType})).json.files, []);
    const url = await server.api('POST', '/modapi/form', {rawBody: 'a=1&a=2&b=%C3%A7+x&c', contentType: 'application/x-www-form-urlencoded'});
    assert.deepEqual(url.json.form, {a: '1', b: 'ç x', c: ''});
    const caught = multipart({}, [{filename: 'x.txt', data: 'nope'}]);
    assert.deepEqual((await server.api('POST', '/modapi/form-caught', {rawBody: caught.body, contentType: caught.contentType})).json,
      {ok: false, status: 415, code: 'not_an_image'});
    assert.match((await server.api('GET', '/modapi/forged-save')).json.err, /give it an entry of this request's req\.files/);
    const saved = await server.api('POST', '/modapi/save', {body: {bytes: PNG.toString('base64')}});
    assertSubset(saved.json, {id: /^f[0-9a-f]{32}$/, info: {size: PNG.length, type: 'image/png', image: true}});
    const refusedSave = await server.api('POST', '/modapi/save', {body: {bytes: Buffer.from('text').toString('base64'), images_only: true}});
    assert.deepEqual(refusedSave.json, {info: 'not an image (JPEG, PNG, WebP or GIF)'});
    const down = await server.api('GET', `/modapi/file/${saved.json.id}?download=1&name=${encodeURIComponent('şema.png')}`);
    assert.match(down.headers['content-disposition'], /^attachment; filename="__ema\.png"; filename\*=UTF-8''%C5%9Fema\.png/);
    assert.equal((await server.api('GET', '/modapi/file/..%2F..%2Fdestek.db')).status, 404);
    assertError(await server.api('GET', '/modapi/file/abc'), 500, 'plugin_error');   // not an id: the plugin's bug
    await logged(/GET \/modapi\/file\/\{id\} failed: module_api\.lua:\d+: bad argument #1 to 'serve' \(not a file id\)/);
    assertError(await server.api('GET', `/modapi/file/f${'0'.repeat(32)}`), 404, 'not_found');
    // notes' files are not module_api's: a plugin serves only files under its own folder.
    const noteFiles = fs.readdirSync(path.join(server.dataDir, 'files', 'notes'));
    assertError(await server.api('GET', `/modapi/file/${noteFiles[0]}`), 404, 'not_found');
  });
});

describe('timers', () => {
  test('a one-shot timer fires in a call of its own; cancelled, it does not; kinds and audit actions are the plugin\'s', async () => {
    const later = await server.api('POST', '/modapi/later', {body: {key: 'k1', n: 5}});
    assert.equal(later.status, 200, later.text);
    assert.match(later.json.foreign, /'notes\.remind' is not a timer kind of this plugin's/);
    assert.match(later.json.bad_audit, /the action 'user\.deleted' must be "module_api\.<what>"/);
    await server.api('POST', '/modapi/later', {body: {key: 'k2', n: 6, cancel: true}});
    const log = await eventually(async () => (await server.api('GET', '/modapi/log')).json.map((r) => r.text),
      (l) => l.includes('timer module_api.later k1 5'));
    await new Promise((r) => setTimeout(r, T(1500)));
    assert.ok(!(await server.api('GET', '/modapi/log')).json.some((r) => r.text.includes('k2')), log.join(','));
    assert.ok((await auditAll(server, admin)).some((i) => i.action === 'module_api.scheduled' && i.target === 'k1'));
  });
});

describe('live updates', () => {
  test('note events reach agents\' sockets summarized (no text); presence on a note', async () => {
    const c = await wsConnect(server.url + '/api/v1/stream', {cookie: agent.cookie});
    await c.next((f) => f.type === 'hello');
    const n = await addNote(customer, 'canlı gizli metin');
    const frame = await c.next((f) => f.type === 'event' && f.name === 'note.added' && f.note_id === n.id);
    assertSubset(frame, {subject: `note:${n.id}`, contact_id: customer});
    assert.doesNotMatch(JSON.stringify(frame), /gizli/);

    c.send({type: 'presence', subject: `note:${n.id}`, typing: false});
    await c.next((f) => f.type === 'presence' && f.subject === `note:${n.id}`);
    c.send({type: 'presence', subject: 'note:999999', typing: false});
    assert.equal((await c.next((f) => f.type === 'error')).code, 'unknown_subject');
    await c.close();

    await server.api('GET', `/api/v1/notes/${n.id}`, {session: agentB});
    const seen = await api('GET', `/api/v1/notes/${n.id}`);
    assert.deepEqual(seen.json.viewers.map((v) => v.name), ['Burak Ajan']);
  });
});

describe('signed links', () => {
  test('sign and verify: per plugin, tamper-evident, with an optional expiry', async () => {
    const s = (await server.api('GET', '/modapi/sign?text=hello')).json;
    assert.match(s.forever, /^[0-9a-f]{32}$/);
    assert.match(s.soon, /^\d+-[0-9a-f]{32}$/);
    assertSubset(s, {ok_forever: true, ok_soon: true, past: [false, 'expired'], tampered: [false, 'bad'],
      other_text: [false, 'bad'], empty: [false, 'bad']});
    const b64 = (await server.api('GET', '/modapi/base64')).json;
    assert.deepEqual(b64, {enc: 'AAECxJ8=', round: true, bad: true, why: 'not base64'});
  });
});

describe('contacts: a Lua module takes part in merge, export and erasure through its services', () => {
  test('notes follow a merge, are in the KVKK export, and are scrubbed by the erasure', async () => {
    const a = await newTicket('Şule Öztürk', 'Şule Öztürk: kargo');
    const b = await newTicket('Şule Ö.');
    const ca = a.customer.id;
    const cb = b.customer.id;
    await addNote(cb, 'Şule Hanım aradı, 0532 765 43 21');
    const notesOf = async (id) => (await api('GET', `/api/v1/notes?contact_id=${id}&limit=200`)).json.items;
    // The ticket.created notes of both (delivered after commit) are in before the merge.
    await eventually(() => notesOf(ca), (l) => l.length === 1, {ms: T(10000)});
    await eventually(() => notesOf(cb), (l) => l.length === 2, {ms: T(10000)});
    let res = await api('POST', `/api/v1/contacts/${ca}/merge`, {source_id: cb});
    assert.equal(res.status, 200, res.text);
    assert.equal((await notesOf(cb)).length, 0);
    assert.ok((await notesOf(ca)).some((n) => n.body.includes('Şule Hanım')), 'notes.contact_merged moved them');
    res = await server.api('GET', `/api/v1/contacts/${ca}/export?format=json`, {session: admin});
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.modules.notes.notes.some((n) => n.body.includes('Şule Hanım')), 'notes.contact_export is the module\'s part');
    assert.ok(res.json.modules.ticketing.tickets.length >= 2);
    res = await server.api('POST', `/api/v1/contacts/${ca}/erase`, {session: admin, body: {confirm_id: ca}});
    assert.equal(res.status, 200, res.text);
    const after = await notesOf(ca);
    assert.ok(after.length >= 2, 'the notes stay');
    assert.ok(after.every((n) => n.body === '***'), JSON.stringify(after));
  });
});

describe('restart and reload', () => {
  test('a timer due while the server was down fires after the restart; reload keeps services and pages', async () => {
    const n = await addNote(customer, 'hatırlat');
    const at = Math.floor(Date.now() / 1000) + 2;
    const set = await api('POST', `/api/v1/notes/${n.id}/remind`, {at});
    assert.equal(set.status, 200, set.text);
    const link = (await api('GET', `/api/v1/notes/${n.id}`)).json.link;
    assert.equal((await server.stop()).code, 0);
    await new Promise((r) => setTimeout(r, 3000));
    server = await startServer({dataDir: server.dataDir});
    const reminded = await eventually(async () => (await api('GET', `/api/v1/notes/${n.id}`)).json,
      (note) => note.reminded_at > 0, {ms: T(10000)});
    assert.ok(reminded.reminded_at >= at, JSON.stringify(reminded));
    const events = await server.api('GET', '/api/v1/events?limit=200', {session: admin});
    assert.ok(events.json.items.some((e) => e.event === 'note.reminded' && e.subject === `note:${n.id}`), events.text);
    assert.equal((await server.api('GET', link)).status, 200, 'a link signed before the restart still opens');

    const out = spawnSync(BIN, ['plugins', 'reload', '--data', server.dataDir], {encoding: 'utf8', timeout: T(30000)});
    assert.equal(out.status, 0, out.stdout + out.stderr);
    const count = await server.api('POST', '/svcclient/call', {session: agent, body: {service: 'notes.count', args: {contact_id: customer}}});
    assert.equal(count.status, 200, count.text);
    assert.equal((await server.api('GET', link)).status, 200);
    const since = server.stderrText().slice(server.stderrText().indexOf("running 'plugins_reload'"));
    assert.doesNotMatch(since, / ERROR /, 'the reload registered the services, timers and live declarations again');
  });
});
