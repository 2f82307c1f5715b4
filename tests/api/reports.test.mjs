// Reports (plugins/reports): every figure of the dashboard compared with a direct computation over a generated help
// desk with known answers. Tickets are created, answered and solved through the real API at chosen instants (the
// SLA test clock, DESTEK_TEST_CLOCK=1), over two weeks of a UTC calendar "mon-fri 09:00-17:00" with a holiday
// (2026-03-04) and a half day (2026-03-11 from 13:00); the roll-ups follow from the events, and a rebuild gives the
// same answers. Also: drill-down, CSV exports, the previous period, validation, the agents' switch, the digest.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, setupAdmin, createUser, login, assertError, eventually, disableOutOfHoursReply, sqlite3, T}
  from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';
import {mailText} from './feedback-helpers.mjs';

let server, admin;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

// ---- the data set -----------------------------------------------------------------------------------------------
function prng(seed) {                        // mulberry32: the same data set on every run
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(18);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const at = (iso) => Date.parse(iso) / 1000;
const START = at('2026-03-02T00:00:00Z'), CREATE_END = at('2026-03-14T00:00:00Z'), END = at('2026-03-16T00:00:00Z');
const OFFSET = 180 * 60;                      // reports.utc_offset_minutes: days are counted in Türkiye's time
const dayOf = (t) => Math.floor((t + OFFSET) / 86400);
const dayNum = (s) => Date.parse(`${s}T00:00:00Z`) / 86400000;

// Business seconds of the calendar in [a, b): mon-fri 09-17 UTC, closed on 2026-03-04, and 2026-03-11 from 13:00.
function business(a, b) {
  let s = 0;
  for (let d = Math.floor(a / 86400) * 86400; d < b; d += 86400) {
    const wd = new Date(d * 1000).getUTCDay();
    if (wd === 0 || wd === 6) continue;
    const iso = new Date(d * 1000).toISOString().slice(0, 10);
    if (iso === '2026-03-04') continue;
    const open = d + 9 * 3600, close = d + (iso === '2026-03-11' ? 13 : 17) * 3600;
    s += Math.max(0, Math.min(b, close) - Math.max(a, open));
  }
  return s;
}

const FRT_TARGET = 120 * 60, RES_TARGET = 600 * 60;
const tickets = [];                           // {c, r?, s?, channel, tags, team, agent, id?}

function generate(n) {
  const delays = [600, 2 * 3600, 6 * 3600, 30 * 3600, 3 * 86400];
  for (let i = 0; i < n; i++) {
    const c = START + Math.floor(rnd() * (CREATE_END - START));
    const t = {c, channel: pick(['email', 'web', 'phone', 'api']), tags: ['kargo', 'iade', 'fatura'].filter(() => rnd() < 0.4),
      team: pick([0, 1, null]), agent: pick([0, 1, null])};
    const r = c + Math.floor(delays[i % delays.length] * (0.5 + rnd()));
    if (r < END) t.r = r;
    if (t.r && rnd() < 0.75) {
      const s = t.r + 1800 + Math.floor(rnd() * 3 * 86400);
      if (s < END) t.s = s;
    }
    tickets.push(t);
  }
}

// What the SLA clock says at END for a ticket under the policy (120 / 600 business minutes, nothing paused).
function slaOf(t) {
  const frtBreached = t.r ? business(t.c, t.r) > FRT_TARGET : business(t.c, END) >= FRT_TARGET;
  const resBreached = t.s ? business(t.c, t.s) > RES_TARGET : business(t.c, END) >= RES_TARGET;
  if (frtBreached || resBreached) return 'breached';
  return t.r && t.s ? 'met' : 'running';
}

// ---- the expected figures -----------------------------------------------------------------------------------------
const bucket = (v) => (v < 3600 ? 0 : v < 4 * 3600 ? 1 : v < 24 * 3600 ? 2 : 3);
function durations(list, f) {
  const v = list.map(f).filter((x) => x !== undefined).sort((a, b) => a - b);
  const b = [0, 0, 0, 0];
  v.forEach((x) => { b[bucket(x)] += 1; });
  const sum = v.reduce((a, x) => a + x, 0);
  return {n: v.length, sum, avg: v.length ? sum / v.length : null, median: v.length ? v[(v.length - 1) >> 1] : null, buckets: b};
}
const frtOf = (bh) => (t) => (t.r === undefined ? undefined : bh ? business(t.c, t.r) : t.r - t.c);
const resOf = (bh) => (t) => (t.s === undefined ? undefined : bh ? business(t.c, t.s) : t.s - t.c);

function expected(from, to, bh, names) {
  const list = tickets.filter((t) => dayOf(t.c) >= dayNum(from) && dayOf(t.c) <= dayNum(to));
  const by = {};
  const add = (dim, value, t) => {
    by[dim] ??= {};
    by[dim][value] ??= [];
    by[dim][value].push(t);
  };
  for (const t of list) {
    add('channel', t.channel, t);
    add('team', t.team === null ? 'none' : String(names.teams[t.team]), t);
    add('agent', t.agent === null ? 'none' : String(names.agents[t.agent]), t);
    for (const g of t.tags) add('tag', g, t);
  }
  const series = [];
  for (let d = dayNum(from); d <= dayNum(to); d++) series.push(list.filter((t) => dayOf(t.c) === d).length);
  return {
    count: list.length,
    frt: durations(list, frtOf(bh)),
    res: durations(list, resOf(bh)),
    met: list.filter((t) => slaOf(t) === 'met').length,
    breached: list.filter((t) => slaOf(t) === 'breached').length,
    by, series, list,
  };
}

function checkDuration(got, exp, what) {
  assert.equal(got.n, exp.n, `${what}: n`);
  assert.equal(got.median, exp.median, `${what}: median`);
  assert.deepEqual(got.buckets, exp.buckets, `${what}: buckets`);
  if (exp.n) assert.ok(Math.abs(got.avg - exp.avg) < 1e-6, `${what}: avg ${got.avg} != ${exp.avg}`);
  else assert.equal(got.avg, null, `${what}: avg`);
}

function checkFigures(fig, exp, bh, what) {
  assert.equal(fig.count, exp.count, `${what}: count`);
  checkDuration(fig.durations.frt, exp.frt, `${what}: frt`);
  checkDuration(fig.durations.res, exp.res, `${what}: res`);
  assert.equal(fig.measures.sla_met?.n ?? 0, exp.met, `${what}: SLA met`);
  assert.equal(fig.measures.sla_breached?.n ?? 0, exp.breached, `${what}: SLA breached`);
  for (const [dim, values] of Object.entries(exp.by)) {
    const rows = fig.by[dim] || [];
    assert.equal(rows.length, Object.keys(values).length, `${what}: ${dim} values`);
    for (const [value, list] of Object.entries(values)) {
      const row = rows.find((x) => x.value === value);
      assert.ok(row, `${what}: ${dim}=${value} missing`);
      assert.equal(row.count, list.length, `${what}: ${dim}=${value} count`);
      const f = durations(list, frtOf(false));
      assert.equal(row.measures.frt?.n ?? 0, f.n, `${what}: ${dim}=${value} frt n`);
      if (f.n) assert.ok(Math.abs(row.measures.frt.avg - f.avg) < 1e-6, `${what}: ${dim}=${value} frt avg`);
      const fb = durations(list, frtOf(true));
      if (fb.n) assert.ok(Math.abs(row.measures.frt_bh.avg - fb.avg) < 1e-6, `${what}: ${dim}=${value} frt_bh avg`);
      assert.equal(row.measures.sla_breached?.n ?? 0, list.filter((t) => slaOf(t) === 'breached').length,
        `${what}: ${dim}=${value} SLA breached`);
      // Per agent and per team: exact medians (not averages) of first response and resolution, in the hours asked
      // (for the period asked; the previous period's table shows counts).
      if ((dim === 'agent' || dim === 'team') && !/previous/.test(what)) {
        for (const [m, of] of [['frt', frtOf], ['res', resOf]]) {
          const d = durations(list, of(bh));
          assert.equal(row.measures[bh ? `${m}_bh` : m]?.median ?? null, d.median, `${what}: ${dim}=${value} ${m} median`);
        }
      }
    }
  }
  if (fig.series) assert.deepEqual(fig.series.count, exp.series, `${what}: daily series`);
}

const names = {teams: [], agents: []};
after(() => { if (process.env.REP_DEBUG) console.log(server.stderrText()); });

before(async () => {
  server = await startServer({env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const cal = (await api('GET', '/api/v1/calendars')).json.items.find((c) => c.is_default);
  let res = await api('PATCH', `/api/v1/calendars/${cal.id}`,
    {time_zone: 'UTC', hours: 'mon-fri 09:00-17:00', holidays: '2026-03-04\n2026-03-11 13:00-24:00'});
  assert.equal(res.status, 200, res.text);
  res = await api('POST', '/api/v1/sla-policies', {name: 'Standart', position: 1, first_response_minutes: 120, resolution_minutes: 600});
  assert.equal(res.status, 201, res.text);
  for (const name of ['Kargo', 'İade']) {
    res = await api('POST', '/api/v1/teams', {name});
    assert.equal(res.status, 201, res.text);
    names.teams.push(res.json.id);
  }
  for (const name of ['Ayşe Ajan', 'Burak Ajan']) names.agents.push((await createUser(server, admin, {name})).id);
  generate(56);
  // Every action at its instant, in time order.
  const actions = [];
  tickets.forEach((t) => {
    actions.push({at: t.c, t, what: 'create'});
    if (t.r) actions.push({at: t.r, t, what: 'reply'});
    if (t.s) actions.push({at: t.s, t, what: 'solve'});
  });
  actions.sort((a, b) => a.at - b.at);
  for (const a of actions) {
    res = await api('POST', '/api/v1/test/clock', {now: a.at});
    assert.equal(res.status, 200, res.text);
    const t = a.t;
    if (a.what === 'create') {
      res = await api('POST', '/api/v1/tickets', {subject: `Soru ${tickets.indexOf(t)}`, body: 'Merhaba',
        customer: {email: `c${tickets.indexOf(t)}@example.com`, name: 'Müşteri'}, channel: t.channel, tags: t.tags});
      assert.equal(res.status, 201, res.text);
      t.id = res.json.id;
      t.ref = res.json.reference;
      const patch = {};
      if (t.team !== null) patch.team_id = names.teams[t.team];
      if (t.agent !== null) patch.assignee_id = names.agents[t.agent];
      patch.tags = t.tags;          // the triage may have added its own: the data set's are the ticket's
      res = await api('PATCH', `/api/v1/tickets/${t.id}`, patch);
      assert.equal(res.status, 200, res.text);
    } else if (a.what === 'reply') {
      res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Bakıyoruz', kind: 'reply'});
      assert.equal(res.status, 201, res.text);
    } else {
      res = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'solved'});
      assert.equal(res.status, 200, res.text);
    }
  }
  res = await api('POST', '/api/v1/test/clock', {now: END});
  assert.equal(res.status, 200, res.text);
});

const dash = async (q) => {
  const res = await api('GET', `/api/v1/reports/dashboard?${q}`);
  assert.equal(res.status, 200, res.text);
  return res.json;
};

const WEEK2 = 'from=2026-03-09&to=2026-03-15';
let incremental;

test('the roll-ups follow the events: every figure matches a direct computation', async () => {
  const exp = expected('2026-03-09', '2026-03-15', false, names);
  const prev = expected('2026-03-02', '2026-03-08', false, names);
  // Events are delivered after commit (and the SLA timers fire on the bus): wait until the roll-ups have them all.
  const settled = (j) => {
    try {
      checkFigures(j.kinds.ticket.current, exp, false, 'current');
      checkFigures(j.kinds.ticket.previous, prev, false, 'previous');
      return true;
    } catch {
      return false;
    }
  };
  const d = await eventually(() => dash(WEEK2), settled, {ms: T(30000)});
  assert.equal(d.from, '2026-03-09');
  assert.deepEqual(d.previous, {from: '2026-03-02', to: '2026-03-08'});
  checkFigures(d.kinds.ticket.current, exp, false, 'week 2, calendar hours');
  checkFigures(d.kinds.ticket.previous, prev, false, 'week 1 (previous), calendar hours');
  // Team and agent names come with their values.
  assert.equal(d.kinds.ticket.current.by.team.find((x) => x.value === String(names.teams[1]))?.label, 'İade');
  assert.equal(d.kinds.ticket.current.by.agent.find((x) => x.value === String(names.agents[0]))?.label, 'Ayşe Ajan');
  // The backlog: tickets not solved, all older than a week by the real clock.
  const open = tickets.filter((t) => !t.s).length;
  assert.deepEqual(d.kinds.ticket.backlog.ages, [0, 0, 0, open]);
  assert.equal(d.kinds.ticket.backlog.open, open);
  // The data set covers what the figures must show.
  assert.ok(exp.frt.buckets.every((b) => b > 0) || prev.frt.buckets.every((b) => b > 0), 'every FRT bucket is used');
  assert.ok(exp.met > 0 && exp.breached > 0, 'SLAs met and missed');
  incremental = d;
});

test('business hours: durations counted in the calendar, with its holiday and half day', async () => {
  const d = await dash(`${WEEK2}&hours=business`);
  assert.equal(d.hours, 'business');
  const exp = expected('2026-03-09', '2026-03-15', true, names);
  checkDuration(d.kinds.ticket.current.durations.frt, exp.frt, 'business frt');
  checkDuration(d.kinds.ticket.current.durations.res, exp.res, 'business res');
  const prev = expected('2026-03-02', '2026-03-08', true, names);
  checkDuration(d.kinds.ticket.previous.durations.frt, prev.frt, 'business frt, previous (the holiday week)');
  checkDuration(d.kinds.ticket.previous.durations.res, prev.res, 'business res, previous');
  // Per agent and per team, the medians are the business ones too.
  for (const dim of ['agent', 'team']) {
    for (const [value, list] of Object.entries(exp.by[dim])) {
      const row = d.kinds.ticket.current.by[dim].find((x) => x.value === value);
      assert.equal(row.measures.frt_bh?.median ?? null, durations(list, frtOf(true)).median, `business ${dim}=${value} frt median`);
      assert.equal(row.measures.res_bh?.median ?? null, durations(list, resOf(true)).median, `business ${dim}=${value} res median`);
    }
  }
  // A ticket opened on the holiday waits in business time from the next morning.
  const hol = tickets.find((t) => new Date(t.c * 1000).toISOString().startsWith('2026-03-04') && t.r);
  if (hol) assert.ok(business(hol.c, hol.r) < hol.r - hol.c);
});

test('the whole range in one: twelve days, a range across both weeks', async () => {
  const d = await dash('from=2026-03-01&to=2026-03-16');
  checkFigures(d.kinds.ticket.current, expected('2026-03-01', '2026-03-16', false, names), false, 'both weeks');
});

test('drill-down: the tickets behind a bar and behind a bucket', async () => {
  const exp = expected('2026-03-09', '2026-03-15', false, names);
  let res = await api('GET', `/api/v1/reports/drill?kind=ticket&${WEEK2}&dim=channel&value=email&limit=200`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.items.map((x) => x.id), exp.list.filter((t) => t.channel === 'email').map((t) => t.id).sort((a, b) => a - b));
  assert.match(res.json.items[0].ref, /^#\d+$/);
  res = await api('GET', `/api/v1/reports/drill?kind=ticket&${WEEK2}&measure=frt&bucket=2&hours=business&limit=200`);
  assert.equal(res.status, 200, res.text);
  const want = exp.list.filter((t) => t.r && bucket(business(t.c, t.r)) === 2).map((t) => t.id).sort((a, b) => a - b);
  assert.deepEqual(res.json.items.map((x) => x.id), want);
  res = await api('GET', `/api/v1/reports/drill?kind=ticket&${WEEK2}&dim=tag&value=kargo&limit=200`);
  assert.deepEqual(res.json.items.map((x) => x.id), exp.list.filter((t) => t.tags.includes('kargo')).map((t) => t.id).sort((a, b) => a - b));
  // The backlog's list: open tickets, whatever their date; paged.
  res = await api('GET', '/api/v1/reports/drill?kind=ticket&open=1&limit=5');
  assert.equal(res.json.items.length, 5);
  assert.ok(res.json.next_cursor);
  const all = [];
  let cursor = '';
  do {
    res = await api('GET', `/api/v1/reports/drill?kind=ticket&open=1&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    all.push(...res.json.items.map((x) => x.id));
    cursor = res.json.next_cursor;
  } while (cursor);
  assert.deepEqual(all, tickets.filter((t) => !t.s).map((t) => t.id).sort((a, b) => a - b));
});

test('CSV: one row per ticket, and each table of the dashboard', async () => {
  const exp = expected('2026-03-09', '2026-03-15', false, names);
  let res = await api('GET', `/api/v1/reports/export.csv?kind=ticket&${WEEK2}`);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/csv/);
  assert.match(res.headers['content-disposition'], /ticket-facts\.csv/);
  const lines = res.text.trim().split('\r\n');
  assert.equal(lines.length, exp.count + 1);
  const head = lines[0].split(',');
  assert.deepEqual(head.slice(0, 4), ['id', 'ref', 'created_at', 'open']);
  const t = exp.list.find((x) => x.r);
  const row = lines.find((l) => l.startsWith(`${t.id},`)).split(',');
  assert.equal(row[2], new Date(t.c * 1000).toISOString().replace('.000', ''));
  assert.equal(Number(row[head.indexOf('frt')]), t.r - t.c);
  assert.equal(row[head.indexOf('channel')], t.channel);
  res = await api('GET', `/api/v1/reports/table.csv?kind=ticket&dim=channel&${WEEK2}`);
  assert.equal(res.status, 200, res.text);
  const tl = res.text.trim().split('\r\n');
  const th = tl[0].split(',');
  assert.deepEqual(th.slice(0, 4), ['value', 'label', 'count', 'previous_count']);
  const prev = expected('2026-03-02', '2026-03-08', false, names);
  for (const [ch, list] of Object.entries(exp.by.channel)) {
    const r = tl.find((l) => l.startsWith(`${ch},`)).split(',');
    assert.equal(Number(r[2]), list.length);
    assert.equal(Number(r[3]), (prev.by.channel[ch] || []).length);
  }
});

// The medians read a histogram row per month wholly inside the range and per day at its ends, then the exact value
// inside one bucket: March 2026 as a month, as days at either end, and both.
async function checkRanges(what) {
  const st = await api('GET', '/api/v1/reports/status');
  assert.equal(st.json.items.find((x) => x.kind === 'ticket').histograms, true);
  for (const [from, to] of [['2026-03-01', '2026-03-31'], ['2026-02-20', '2026-04-05'], ['2026-03-05', '2026-04-30'],
    ['2026-01-01', '2026-03-12']]) {
    for (const bh of [false, true]) {
      const d = await dash(`from=${from}&to=${to}${bh ? '&hours=business' : ''}`);
      checkFigures(d.kinds.ticket.current, expected(from, to, bh, names), bh, `${what}: ${from}..${to}${bh ? ' business' : ''}`);
    }
  }
}

test('medians over ranges of whole months and days at their ends (the histograms kept by the events) match a direct computation', async () => {
  await checkRanges('followed');
});

test('a rebuild from the modules gives the same figures', async () => {
  const res = await api('POST', '/api/v1/reports/rebuild');
  assert.equal(res.status, 200, res.text);
  const k = res.json.items.find((x) => x.kind === 'ticket');
  assert.equal(k.facts, tickets.length);
  assert.equal(typeof k.ms, 'number');
  const d = await dash(WEEK2);
  // The backlog's age follows the real clock between the two reads.
  const noAge = (x) => { for (const k of Object.values(x.kinds)) if (k.backlog) delete k.backlog.oldest_seconds; return x; };
  assert.deepEqual(noAge(d), noAge(incremental));
  const st = await api('GET', '/api/v1/reports/status');
  assert.equal(st.json.items.find((x) => x.kind === 'ticket').facts, tickets.length);
  await checkRanges('rebuilt');   // the histograms built whole at the rebuild's end
});

test('a merged ticket leaves the figures; a changed one moves', async () => {
  const [a, b] = tickets.filter((t) => !t.s && dayOf(t.c) >= dayNum('2026-03-09'));
  const before = (await dash(WEEK2)).kinds.ticket.current;
  let res = await api('PATCH', `/api/v1/tickets/${a.id}`, {tags: ['yeni-etiket']});
  assert.equal(res.status, 200, res.text);
  await eventually(() => dash(WEEK2), (j) => j.kinds.ticket.current.by.tag?.some((x) => x.value === 'yeni-etiket'));
  res = await api('POST', `/api/v1/tickets/${a.id}/merge`, {source_id: b.id});
  if (res.status === 200 || res.status === 201) {
    const d = await eventually(() => dash(WEEK2), (j) => j.kinds.ticket.current.count === before.count - 1);
    assert.equal(d.kinds.ticket.current.count, before.count - 1);
  }
});

test('bad input is a 422 naming the field; an unknown kind is a 404', async () => {
  assertError(await api('GET', '/api/v1/reports/dashboard?from=2026-02-30'), 422, 'invalid_field', 'from');
  assertError(await api('GET', '/api/v1/reports/dashboard?from=2026-03-10&to=2026-03-01'), 422, 'invalid_field', 'from');
  assertError(await api('GET', '/api/v1/reports/dashboard?hours=nights'), 422, 'invalid_field', 'hours');
  assertError(await api('GET', '/api/v1/reports/drill?kind=ticket&dim=x%27y'), 422, 'invalid_field', 'dim');
  assertError(await api('GET', '/api/v1/reports/drill?kind=ticket&bucket=7'), 422, 'invalid_field', 'bucket');
  assertError(await api('GET', '/api/v1/reports/drill'), 422, 'missing_field', 'kind');
  assertError(await api('GET', '/api/v1/reports/drill?kind=chat'), 404, 'not_found');
  assert.equal((await server.api('GET', '/api/v1/reports/dashboard')).status, 401);
});

test('agents see the reports unless an admin turns that off; only admins rebuild', async () => {
  const u = await createUser(server, admin, {email: 'rapor-ajan@example.com', role: 'agent'});
  const agent = await login(server, 'rapor-ajan@example.com', u.password);
  assert.equal((await api('GET', `/api/v1/reports/dashboard?${WEEK2}`, undefined, agent)).status, 200);
  assert.equal((await api('POST', '/api/v1/reports/rebuild', undefined, agent)).status, 403);
  let res = await api('PATCH', '/api/v1/settings', {'reports.agents': false});
  assert.equal(res.status, 200, res.text);
  assertError(await api('GET', '/api/v1/reports/dashboard', undefined, agent), 403, 'forbidden');
  assert.equal((await api('GET', '/api/v1/reports/dashboard')).status, 200);
  res = await api('PATCH', '/api/v1/settings', {'reports.agents': true});
  assert.equal(res.status, 200, res.text);
});

test('the weekly digest: HTML with its text part, in each admin\'s language, the week beside the one before, by SMTP', async () => {
  const smtp = await startSmtp();
  try {
    let res = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example'});
    assert.equal(res.status, 200, res.text);
    await createUser(server, admin, {email: 'rapor-admin-en@example.com', name: 'Report Admin', role: 'admin', lang: 'en'});
    await createUser(server, admin, {email: 'rapor-admin-tr@example.com', name: 'Rapor Yönetici', role: 'admin', lang: 'tr'});
    assertError(await api('POST', '/api/v1/reports/digest?to=2026-02-31'), 422, 'invalid_field', 'to');
    res = await api('POST', '/api/v1/reports/digest?to=2026-03-15');
    assert.equal(res.status, 200, res.text);
    const admins = Number(sqlite3(path.join(server.dataDir, 'destek.db'),
      "SELECT count(*) FROM core_users WHERE role = 'admin' AND active = 1").stdout.trim());
    assert.equal(res.json.sent, admins);
    const mailTo = (to) => eventually(async () => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === to),
      (m) => Boolean(m), {ms: T(20000)});
    const cur = expected('2026-03-09', '2026-03-15', false, names), prev = expected('2026-03-02', '2026-03-08', false, names);
    const hours = (s, tr) => (s === null ? '-' : s < 3600 ? `${(s / 60).toFixed(0)} ${tr ? 'dk' : 'min'}`
      : `${(s / 3600).toFixed(1)} ${tr ? 'sa' : 'h'}`.replace('.', tr ? ',' : '.'));
    for (const [to, tr] of [['rapor-admin-en@example.com', false], ['rapor-admin-tr@example.com', true]]) {
      const mail = await mailTo(to);
      assert.match(mail.headers['content-type'], /multipart\/alternative/);
      assert.equal(mail.headers.subject.includes('=?') ? true : mail.headers.subject, tr ? true : 'Destek weekly digest');
      assert.doesNotMatch(mail.headers['list-unsubscribe'] || '', /./, 'a service message carries no unsubscribe');
      const boundary = /boundary="?([^";]+)"?/.exec(mail.headers['content-type'])[1];
      const parts = mail.body.split(`--${boundary}`).slice(1, -1).map((p) => mailText({headers: {}, body: p.slice(p.indexOf('\r\n\r\n') + 4),
        ...(/quoted-printable/i.test(p.slice(0, p.indexOf('\r\n\r\n'))) ? {headers: {'content-transfer-encoding': 'quoted-printable'}} : {})}));
      const [text, html] = parts;
      // The text part: "Tickets: 30 (26)" and the medians beside the week before's.
      assert.match(text, new RegExp(`${tr ? 'Talepler' : 'Tickets'}: ${cur.count} \\(${prev.count}\\)`));
      assert.ok(text.includes(`${tr ? 'İlk yanıt süresi (medyan)' : 'First response time (median)'}: ${hours(cur.frt.median, tr)} (${hours(prev.frt.median, tr)})`), text);
      assert.ok(text.includes(`${tr ? 'Çözüm süresi (medyan)' : 'Resolution time (median)'}: ${hours(cur.res.median, tr)} (${hours(prev.res.median, tr)})`), text);
      const met = (e) => Math.round(100 * e.met / (e.met + e.breached));
      assert.ok(text.includes(tr ? `SLA karşılanma: %${met(cur)} (%${met(prev)})` : `SLA met: ${met(cur)}% (${met(prev)}%)`), text);
      assert.match(text, /\/app\/reports/);
      // The HTML part: the same figures in a table, in the admin's language, with the change.
      assert.match(html, new RegExp(`<html lang="${tr ? 'tr' : 'en'}">`));
      assert.match(html, new RegExp(`>${tr ? 'Talepler' : 'Tickets'}</td><td[^>]*>${cur.count}</td><td[^>]*>${prev.count}</td>`));
      assert.ok(html.includes(tr ? 'Önceki hafta' : 'Week before'), html);
      const pct = Math.round(100 * (cur.count - prev.count) / prev.count);
      assert.ok(html.includes(tr ? `%${Math.abs(pct)}` : `${Math.abs(pct)} %`), html);
      assert.match(html, /href="http[^"]*\/app\/reports"/);
    }
  } finally {
    await smtp.stop();
  }
});
