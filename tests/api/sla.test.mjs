// SLAs: calendars and policies (admin API, parser errors as 422s), and ticket SLA clocks under the fake clock
// (DESTEK_TEST_CLOCK=1, POST /api/v1/test/clock) across the 28 Oct 2026 half day, the 29 Oct holiday (Europe/Istanbul)
// and a weekend; pending pauses; first reply stops the first-response clock; sla.warning/sla.breached fire once.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, assertError, listAll, eventually} from './lib.mjs';

let server, admin, seq = 0;
const api = (method, p, body) => server.api(method, p, {session: admin, body});

before(async () => {
  server = await startServer({env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
});

async function clock(now) {
  const res = await api('POST', '/api/v1/test/clock', {now});
  assert.equal(res.status, 200, res.text);
}

async function newTicket(over = {}) {
  seq += 1;
  const res = await api('POST', '/api/v1/tickets', {subject: `SLA ${seq}`,
    customer: {email: `sla${seq}@example.com`, name: `Müşteri ${seq}`}, body: 'Merhaba', ...over});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const events = async (name, id) =>
  (await listAll(server, `/api/v1/events?event=${name}&subject=ticket:${id}`, {session: admin, limit: 200}))
    .map((e) => e.payload);
const sla = async (id) => (await api('GET', `/api/v1/tickets/${id}`)).json.sla;

test('without DESTEK_TEST_CLOCK=1 there is no test clock', async () => {
  const plain = await startServer({env: {DESTEK_TEST_CLOCK: ''}});
  const a = await setupAdmin(plain);
  const res = await plain.api('POST', '/api/v1/test/clock', {session: a, body: {now: '2026-10-28T08:00:00Z'}});
  assert.equal(res.status, 404, res.text);
});

describe('calendars', () => {
  test('the default calendar is Istanbul office hours with holidays', async () => {
    const res = await api('GET', '/api/v1/calendars');
    assert.equal(res.status, 200, res.text);
    const def = res.json.items.find((c) => c.is_default);
    assert.equal(def.time_zone, 'Europe/Istanbul');
    assert.match(def.holidays, /2026-10-29/);
  });

  test('parser errors are 422s naming the field', async () => {
    let res = await api('POST', '/api/v1/calendars', {name: 'Bad', time_zone: 'Europe/Istanbul', hours: 'mon-fri 9-18'});
    assertError(res, 422, 'invalid_field', 'hours');
    res = await api('POST', '/api/v1/calendars', {name: 'Bad', time_zone: 'Mars/Olympus', hours: 'mon-fri 09:00-18:00'});
    assertError(res, 422, 'invalid_field', 'time_zone');
    res = await api('POST', '/api/v1/calendars',
      {name: 'Bad', time_zone: 'UTC', hours: 'daily 00:00-24:00', holidays: '2026-02-30'});
    assertError(res, 422, 'invalid_field', 'holidays');
  });

  test('create, update, assign to a team, delete', async () => {
    let res = await api('POST', '/api/v1/calendars', {name: 'Depo', time_zone: 'Europe/Berlin', hours: 'mon-sat 08:00-16:00'});
    assert.equal(res.status, 201, res.text);
    const cal = res.json;
    res = await api('PATCH', `/api/v1/calendars/${cal.id}`, {holidays: '2026-12-25'});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.holidays, '2026-12-25');
    assert.equal(res.json.hours, 'mon-sat 08:00-16:00');
    const team = (await api('POST', '/api/v1/teams', {name: 'Depo ekibi'})).json;
    res = await api('PUT', `/api/v1/teams/${team.id}/calendar`, {calendar_id: cal.id});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await api('GET', `/api/v1/calendars/${cal.id}`)).json.team_ids, [team.id]);
    assertError(await api('DELETE', `/api/v1/calendars/${cal.id}`), 409, 'calendar_in_use');
    await api('PUT', `/api/v1/teams/${team.id}/calendar`, {calendar_id: null});
    assert.equal((await api('DELETE', `/api/v1/calendars/${cal.id}`)).status, 204);
  });
});

describe('SLA clocks', () => {
  before(async () => {
    let res = await api('POST', '/api/v1/sla-policies', {name: 'Acil', priority: 'urgent',
      first_response_minutes: 60, resolution_minutes: 480});
    assert.equal(res.status, 201, res.text);
    res = await api('POST', '/api/v1/sla-policies', {name: 'Normal', first_response_minutes: 240,
      resolution_minutes: 960, warn_percent: 50});
    assert.equal(res.status, 201, res.text);
    assertError(await api('POST', '/api/v1/sla-policies', {name: 'Empty'}), 422, 'invalid_field', 'first_response_minutes');
  });

  test('across the half day and the holiday: warning then breach, each once', async () => {
    await clock('2026-10-28T08:00:00Z');               // Wednesday 11:00 in Istanbul; closes at 13:00 (half day)
    const t = await newTicket();
    let s = await sla(t.id);
    assert.equal(s.first_response.target_minutes, 240);
    // 2 h on Wednesday, nothing on the 29th (holiday), 2 h on Friday from 09:00: due Friday 11:00 local.
    assert.equal(s.first_response.due_at, '2026-10-30T08:00:00Z');
    assert.equal(s.first_response.warn_at, '2026-10-28T10:00:00Z');
    assert.equal(s.first_response.state, 'ok');
    await clock('2026-10-29T12:00:00Z');
    await eventually(() => events('sla.warning', t.id), (e) => e.length === 1);
    assert.equal((await sla(t.id)).first_response.state, 'warning');
    await clock('2026-10-30T08:00:00Z');
    const b = await eventually(() => events('sla.breached', t.id), (e) => e.length === 1);
    assert.equal(b[0].sla.target, 'first_response');
    await clock('2026-10-30T09:00:00Z');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await events('sla.breached', t.id)).length, 1);
    assert.equal((await events('sla.warning', t.id)).length, 1);
    // Resolution (960 min, warning at 50 %): 2 h Wednesday + 6 h Friday from 09:00 = Friday 15:00 local.
    assert.equal((await sla(t.id)).resolution.warn_at, '2026-10-30T12:00:00Z');
    await clock('2026-10-30T12:00:00Z');
    const w = await eventually(() => events('sla.warning', t.id), (e) => e.length === 2);
    assert.deepEqual(w.map((e) => e.sla.target).sort(), ['first_response', 'resolution']);
  });

  test('a weekend does not count; the first reply stops the first-response clock', async () => {
    await clock('2026-11-06T14:00:00Z');               // Friday 17:00; 1 h left that day, then Monday
    const t = await newTicket();
    assert.equal((await sla(t.id)).first_response.due_at, '2026-11-09T09:00:00Z'); // Monday 12:00 local
    await clock('2026-11-09T07:00:00Z');
    const res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Bakıyoruz', kind: 'reply'});
    assert.equal(res.status, 201, res.text);
    const s = await sla(t.id);
    assert.equal(s.first_response.clock, 'stopped');
    assert.equal(s.first_response.state, 'ok');
    assert.equal(s.resolution.clock, 'running');
  });

  test('pending pauses the clock', async () => {
    await clock('2026-11-02T06:00:00Z');               // Monday 09:00 local
    const t = await newTicket();
    await clock('2026-11-02T07:00:00Z');
    assert.equal((await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'pending'})).status, 200);
    let s = await sla(t.id);
    assert.equal(s.first_response.clock, 'paused');
    assert.equal(s.first_response.due_at, null);
    assert.equal(s.first_response.elapsed_minutes, 60);
    await clock('2026-11-02T12:00:00Z');
    assert.equal((await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'open'})).status, 200);
    s = await sla(t.id);
    assert.equal(s.first_response.clock, 'running');
    assert.equal(s.first_response.due_at, '2026-11-02T15:00:00Z');   // 3 h left: 18:00 local, the closing time
  });

  test('the first matching policy by position applies; priority changes re-evaluate', async () => {
    await clock('2026-11-03T07:00:00Z');
    const t = await newTicket();
    assert.equal((await sla(t.id)).first_response.target_minutes, 240);
    assert.equal((await api('PATCH', `/api/v1/tickets/${t.id}`, {priority: 'urgent'})).status, 200);
    const s = await sla(t.id);
    assert.equal(s.first_response.target_minutes, 60);
    assert.equal(s.first_response.due_at, '2026-11-03T08:00:00Z');
    const list = await api('GET', '/api/v1/tickets?limit=5');
    assert.ok(list.json.items.every((i) => 'sla' in i));
  });

  test('sla_at_risk lists tickets whose running clock is in warning or breached', async () => {
    await clock('2026-11-10T06:00:00Z');              // Tuesday 09:00 local
    const t = await newTicket({priority: 'urgent'});  // first response due in 60 business minutes
    const ids = async () => (await api('GET', '/api/v1/tickets?sla_at_risk=true&limit=200')).json.items.map((i) => i.id);
    assert.ok(!(await ids()).includes(t.id));
    await clock('2026-11-10T06:50:00Z');              // past 80 %
    assert.ok((await ids()).includes(t.id));
    await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Yanıt', kind: 'reply'});
    await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'solved'});
    assert.ok(!(await ids()).includes(t.id));
    assertError(await api('GET', '/api/v1/tickets?sla_at_risk=maybe'), 422, 'invalid_field', 'sla_at_risk');
  });
});
