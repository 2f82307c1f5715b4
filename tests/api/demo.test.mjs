// `destek demo`: fills a new desk with the Anadolu Tekstil demo shop; the desk then serves its tickets, a printed
// agent signs in, the search finds Turkish demo tickets (same index as the API writes), and a second run, or a run
// while a server holds the directory, is refused.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli, startServer, tempDir, login, eventually, T} from './lib.mjs';

let dir, first;

before(async () => {
  dir = tempDir('destek-demo-');
  first = await runCli(['demo', '--data', dir], {timeout: T(60000)});
});

test('demo fills a fresh desk and prints the demo log-ins', () => {
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Anadolu Tekstil/);
  assert.match(first.stdout, /admin\s+admin@anadolutekstil\.example\s+password: \S+/);
  assert.match(first.stdout, /agent\s+ayse@anadolutekstil\.example\s+password: \S+/);
});

test('a second run refuses (exit 1) and adds nothing', async () => {
  const again = await runCli(['demo', '--data', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already has \d+ tickets/);
  assert.match(again.stderr, /--force/);
});

test('the desk serves the demo tickets; a printed agent signs in; search finds Turkish tickets', async () => {
  const server = await startServer({dataDir: dir});
  const m = /agent\s+(\S+@anadolutekstil\.example)\s+password: (\S+)/.exec(first.stdout);
  const agent = await login(server, m[1], m[2]);
  assert.equal(agent.user.role, 'agent');
  // The demo's teams have members; the agent sees them by name in the directory.
  const teams = await server.api('GET', '/api/v1/teams', {session: agent});
  for (const tm of teams.json.items) assert.equal(tm.members.length, 2, tm.name);
  const people = await server.api('GET', '/api/v1/directory?limit=200', {session: agent});
  assert.ok(people.json.items.some((u) => u.name === 'Ayşe Demir' && u.teams.some((x) => x.name === 'Kargo ve Teslimat')));

  const list = await server.api('GET', '/api/v1/tickets?limit=50', {session: agent});
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.items.length, 50);
  assert.ok(list.json.next_cursor, 'more than one page of demo tickets');
  const channels = new Set(list.json.items.map((t) => t.channel));
  assert.ok(channels.size >= 3, `several channels: ${[...channels]}`);
  // Most recently updated first, and spread over past weeks rather than all "now".
  const times = list.json.items.map((t) => Date.parse(t.updated_at));
  assert.deepEqual([...times].sort((a, b) => b - a), times);
  const all = await server.api('GET', '/api/v1/tickets?status=closed&limit=50', {session: agent});
  assert.ok(all.json.items.length > 0);
  assert.ok(Date.now() - Date.parse(all.json.items.at(-1).created_at) > 7 * 86400e3, 'closed tickets are weeks old');

  // Turkish search, with and without the Turkish letters (the index is the one the API keeps).
  for (const q of ['kargo', 'iade', 'hasarlı', 'hasarli', 'ücretsiz kargo']) {
    const s = await server.api('GET', `/api/v1/tickets?q=${encodeURIComponent(q)}&limit=5`, {session: agent});
    assert.equal(s.status, 200, s.text);
    assert.ok(s.json.items.length > 0, `search "${q}" finds demo tickets`);
    assert.match(s.json.items[0].search.snippet_html, /<mark>/);
  }

  // A ticket's thread: customer message first, history present.
  const t = await server.api('GET', `/api/v1/tickets/${all.json.items[0].id}`, {session: agent});
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.messages[0].kind, 'customer');
  assert.ok(t.json.messages.some((x) => x.kind === 'reply'));
  assert.ok(t.json.history.length >= 2);

  // The demo's macros are the desk's own: listed, and applying one replies in the customer's language.
  const macros = await server.api('GET', '/api/v1/macros', {session: agent});
  assert.equal(macros.status, 200, macros.text);
  const kargo = macros.json.items.find((x) => /^Kargo gecikmesi/.test(x.name));
  assert.ok(kargo, 'the demo macros are there');
  // Names read naturally (no "(demo)" tags), greetings by first name.
  for (const x of macros.json.items) assert.doesNotMatch(x.name, /\(demo\)/, x.name);
  assert.match(kargo.body_tr, /\{\{customer\.first_name\}\}/);
  // The SLA policies apply to the demo tickets: the "SLA at risk" view is not empty, and open tickets carry a clock.
  const policies = await server.api('GET', '/api/v1/sla-policies', {session: agent});
  assert.ok(policies.json.items.every((x) => !/\(demo\)/.test(x.name)), 'policy names read naturally');
  const risk = await server.api('GET', '/api/v1/tickets/count?sla_at_risk=true', {session: agent});
  assert.ok(risk.json.count > 0, 'the SLA at risk view has tickets');
  const openList = await server.api('GET', '/api/v1/tickets?status=new,open&limit=5', {session: agent});
  assert.ok(openList.json.items.some((x) => x.sla), 'open demo tickets have an SLA');
  // A customer was first seen no later than their first ticket.
  const someone = await server.api('GET', `/api/v1/customers/${all.json.items.at(-1).customer.id}`, {session: agent});
  const firstTicket = Math.min(...someone.json.tickets.map((x) => Date.parse(x.created_at)));
  assert.ok(Date.parse(someone.json.first_seen_at) <= firstTicket, `first seen ${someone.json.first_seen_at} precedes the tickets`);
  // A new or open ticket of a Turkish-speaking customer (the list's customer carries no language: ask the customer).
  let open = null;
  for (const x of (await server.api('GET', '/api/v1/tickets?status=new,open&limit=50', {session: agent})).json.items) {
    const c = await server.api('GET', `/api/v1/customers/${x.customer.id}`, {session: agent});
    if (c.status === 200 && c.json.lang === 'tr') { open = x; break; }
  }
  assert.ok(open, 'a new or open Turkish demo ticket');
  const applied = await server.api('POST', `/api/v1/tickets/${open.id}/macros/${kargo.id}/apply`, {session: agent});
  assert.equal(applied.status, 200, applied.text);
  assert.equal(applied.json.status, 'pending');
  const after = await server.api('GET', `/api/v1/tickets/${open.id}`, {session: agent});
  assert.match(after.json.messages.at(-1).body, /siparişiniz/);

  // The demo refuses while a server holds the directory.
  const busy = await runCli(['demo', '--data', dir, '--force']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /server is running/);
  await server.stop();
});

test("the reports count the demo's feedback: its CSAT answers and NPS answers reach the dashboard", async () => {
  const server = await startServer({dataDir: dir});
  const admin = await login(server, 'admin@anadolutekstil.example', 'demo-admin-2026');
  // What the feedback module itself counts (every answered CSAT question; the NPS answers, which a timer makes when
  // the server starts, after the orders module's demo) beside what the reports module has: it learns of answers by
  // their events (csat.rated, survey.answered), the demo's too, without a rebuild. Before, a demo desk's dashboard
  // showed no CSAT and no NPS.
  const read = async () => {
    const [csat, nps, status] = await Promise.all(['/api/v1/feedback/csat/report?days=365', '/api/v1/feedback/nps',
      '/api/v1/reports/status'].map((p) => server.api('GET', p, {session: admin})));
    const facts = (kind) => status.json.items.find((x) => x.kind === kind)?.facts;
    return {csat: csat.json.overall.answered, nps: nps.json.answered, reports: {csat: facts('csat'), nps: facts('nps')}};
  };
  const got = await eventually(read, (v) => v.nps > 0 && v.reports.csat === v.csat && v.reports.nps === v.nps,
    {ms: T(30000), every: 250});
  assert.ok(got.csat > 0 && got.nps > 0, JSON.stringify(got));
  assert.deepEqual(got.reports, {csat: got.csat, nps: got.nps});
  await server.stop();
});
