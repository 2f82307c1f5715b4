// Colleagues and teams (issue 11): the colleague directory every signed-in user reads (names, roles, teams,
// online; no e-mail), team membership (admins), "my teams" in the ticket list and its counts, and round-robin
// assignment among a team's online members — as a team setting when a ticket comes to the team without an agent,
// and as the trigger action assign_round_robin — fair under concurrent requests, skipping offline, inactive and
// fully loaded members.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {assertError, cleanup, createUser, login, setupAdmin, startServer} from './lib.mjs';

let server, admin, agentA, agentB, agentC, offline, seq = 0;
const as = (who) => (method, p, body) => server.api(method, p, {session: who, body});
let adm;

after(cleanup);

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  adm = as(admin);
  const mk = async (name) => createUser(server, admin, {name, role: 'agent'});
  const a = await mk('Ayşe Kaya'), b = await mk('Burak Demir'), c = await mk('Cem Yıldız');
  offline = await mk('Deniz Uyur');   // never signs in: offline
  agentA = await login(server, a.email, a.password);
  agentB = await login(server, b.email, b.password);
  agentC = await login(server, c.email, c.password);
  // No automatic reply in these tests: they count assignments only.
  const trg = await adm('GET', '/api/v1/triggers');
  for (const t of trg.json.items) await adm('PATCH', `/api/v1/triggers/${t.id}`, {active: false});
});

async function newTicket(over = {}) {
  seq += 1;
  const res = await adm('POST', '/api/v1/tickets', {subject: `Kargo ${seq}`, body: 'Merhaba',
    customer: {email: `team${seq}@example.com`, name: `Müşteri ${seq}`}, ...over});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

async function newTeam(name, over = {}) {
  const res = await adm('POST', '/api/v1/teams', {name, ...over});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

describe('the colleague directory', () => {
  test('an agent who is not an admin reads names, roles, teams and who is online; no e-mail', async () => {
    const res = await as(agentA)('GET', '/api/v1/directory?limit=200');
    assert.equal(res.status, 200, res.text);
    const byId = Object.fromEntries(res.json.items.map((u) => [u.id, u]));
    assert.equal(byId[agentB.user.id].name, 'Burak Demir');
    assert.equal(byId[agentB.user.id].role, 'agent');
    assert.equal(byId[admin.user.id].role, 'admin');
    assert.equal(byId[agentB.user.id].online, true);
    assert.equal(byId[offline.id].online, false);
    assert.deepEqual(byId[agentB.user.id].teams, []);
    for (const u of res.json.items) {
      assert.deepEqual(Object.keys(u).sort(), ['active', 'id', 'name', 'online', 'role', 'teams']);
      assert.ok(!JSON.stringify(u).includes('@'), 'no e-mail address in the directory');
    }
    // The users list itself stays admins' only.
    assertError(await as(agentA)('GET', '/api/v1/users'), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/directory'), 401, 'unauthenticated');
  });

  test('pages with a cursor; an inactive user is listed, not online', async () => {
    const gone = await createUser(server, admin, {name: 'Eski Çalışan'});
    const who = await login(server, gone.email, gone.password);
    let res = await as(agentA)('GET', '/api/v1/directory?limit=200');
    assert.equal(res.json.items.find((u) => u.id === gone.id).online, true);
    assert.equal((await adm('PATCH', `/api/v1/users/${gone.id}`, {active: false})).status, 200);
    res = await as(agentA)('GET', '/api/v1/directory?limit=200');
    const u = res.json.items.find((x) => x.id === gone.id);
    assert.equal(u.active, false);
    assert.equal(u.online, false);
    assertError(await as(who)('GET', '/api/v1/directory'), 401, 'unauthenticated');
    const page1 = await as(agentA)('GET', '/api/v1/directory?limit=2');
    assert.equal(page1.json.items.length, 2);
    assert.ok(page1.json.next_cursor);
    const page2 = await as(agentA)('GET', `/api/v1/directory?limit=2&cursor=${encodeURIComponent(page1.json.next_cursor)}`);
    assert.ok(page2.json.items[0].id > page1.json.items[1].id);
    assertError(await as(agentA)('GET', '/api/v1/directory?limit=0'), 422, 'invalid_field', 'limit');
  });
});

describe('team membership', () => {
  let team;
  before(async () => { team = await newTeam('Kargo Ekibi'); });

  test('admins set, add and remove members; the team and the directory show them', async () => {
    let res = await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: [agentA.user.id, agentB.user.id]});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.members.map((m) => m.name), ['Ayşe Kaya', 'Burak Demir']);
    assert.ok(!JSON.stringify(res.json.members).includes('@'));
    res = await adm('POST', `/api/v1/teams/${team.id}/members`, {user_id: agentC.user.id});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.members.length, 3);
    res = await adm('POST', `/api/v1/teams/${team.id}/members`, {user_id: agentC.user.id});   // already one
    assert.equal(res.json.members.length, 3);
    assert.equal((await adm('DELETE', `/api/v1/teams/${team.id}/members/${agentC.user.id}`)).status, 204);
    assertError(await adm('DELETE', `/api/v1/teams/${team.id}/members/${agentC.user.id}`), 404, 'not_found');
    const dir = await as(agentC)('GET', '/api/v1/directory?limit=200');
    const a = dir.json.items.find((u) => u.id === agentA.user.id);
    assert.deepEqual(a.teams, [{id: team.id, name: 'Kargo Ekibi'}]);
    assert.deepEqual(dir.json.items.find((u) => u.id === agentC.user.id).teams, []);
    const mine = await as(agentA)('GET', '/api/v1/teams?member=me');
    assert.deepEqual(mine.json.items.map((t) => t.id), [team.id]);
    assert.deepEqual((await as(agentC)('GET', '/api/v1/teams?member=me')).json.items, []);
    const audit = await adm('GET', '/api/v1/audit?limit=50');
    assert.ok(audit.json.items.some((x) => x.action === 'team.members_set'));
  });

  test('bad input and access', async () => {
    assertError(await as(agentA)('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: []}), 403, 'forbidden');
    assertError(await as(agentA)('POST', `/api/v1/teams/${team.id}/members`, {user_id: agentA.user.id}), 403, 'forbidden');
    assertError(await adm('PUT', `/api/v1/teams/${team.id}/members`, {}), 422, 'missing_field', 'user_ids');
    assertError(await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: 'x'}), 422, 'invalid_field', 'user_ids');
    assertError(await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: [999999]}), 422, 'invalid_field', 'user_ids');
    assertError(await adm('POST', `/api/v1/teams/${team.id}/members`, {user_id: 'abc'}), 422, 'invalid_field', 'user_id');
    assertError(await adm('POST', '/api/v1/teams/999999/members', {user_id: agentA.user.id}), 404, 'not_found');
    assertError(await adm('PATCH', `/api/v1/teams/${team.id}`, {max_open: 0}), 422, 'invalid_field', 'max_open');
    assertError(await adm('PATCH', `/api/v1/teams/${team.id}`, {max_open: 1.5}), 422, 'invalid_field', 'max_open');
    assertError(await adm('PATCH', `/api/v1/teams/${team.id}`, {round_robin: 'yes'}), 422, 'invalid_field', 'round_robin');
    assertError(await as(agentA)('GET', '/api/v1/teams?member=you'), 422, 'invalid_field', 'member');
    // The members were not touched by the refused calls.
    assert.equal((await adm('GET', `/api/v1/teams/${team.id}`)).json.members.length, 2);
  });

  test('"my teams": the tickets of the teams I belong to, and their count', async () => {
    const other = await newTeam('İade Ekibi');
    const t1 = await newTicket({}), t2 = await newTicket({}), t3 = await newTicket({});
    await adm('PATCH', `/api/v1/tickets/${t1.id}`, {team_id: team.id});
    await adm('PATCH', `/api/v1/tickets/${t2.id}`, {team_id: other.id});
    const list = await as(agentA)('GET', '/api/v1/tickets?team=mine&limit=100');
    assert.equal(list.status, 200, list.text);
    const ids = list.json.items.map((x) => x.id);
    assert.ok(ids.includes(t1.id) && !ids.includes(t2.id) && !ids.includes(t3.id));
    const count = await as(agentA)('GET', '/api/v1/tickets/count?team=mine');
    assert.equal(count.json.count, list.json.items.length);
    assert.equal((await as(agentC)('GET', '/api/v1/tickets/count?team=mine')).json.count, 0);
    assertError(await as(agentA)('GET', '/api/v1/tickets?team=theirs'), 422, 'invalid_field', 'team');
  });
});

describe('round-robin', () => {
  test('a team setting: tickets coming to the team without an agent go to its online members in turn', async () => {
    const team = await newTeam('Sıralı', {round_robin: true});
    assert.equal(team.round_robin, true);
    assert.equal(team.max_open, null);
    await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: [agentA.user.id, agentB.user.id, offline.id]});
    const got = [];
    for (let i = 0; i < 4; i++) {
      const t = await newTicket();
      const res = await adm('PATCH', `/api/v1/tickets/${t.id}`, {team_id: team.id});
      assert.equal(res.status, 200, res.text);
      got.push(res.json.assignee_id);
    }
    // The offline member is skipped; A and B alternate.
    assert.ok(!got.includes(offline.id));
    assert.equal(new Set(got).size, 2);
    assert.notEqual(got[0], got[1]);
    assert.equal(got[0], got[2]);
    assert.equal(got[1], got[3]);
    // With an agent given, or without round-robin, nobody is picked.
    const t = await newTicket();
    const res = await adm('PATCH', `/api/v1/tickets/${t.id}`, {team_id: team.id, assignee_id: agentC.user.id});
    assert.equal(res.json.assignee_id, agentC.user.id);
    await adm('PATCH', `/api/v1/teams/${team.id}`, {round_robin: false});
    const t2 = await newTicket();
    assert.equal((await adm('PATCH', `/api/v1/tickets/${t2.id}`, {team_id: team.id})).json.assignee_id, null);
  });

  test('fair under concurrency: 30 tickets sent to the team at once go 10 to each online member', async () => {
    const team = await newTeam('Kalabalık', {round_robin: true});
    await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: [agentA.user.id, agentB.user.id, agentC.user.id, offline.id]});
    const tickets = [];
    for (let i = 0; i < 30; i++) tickets.push(await newTicket());
    const answers = await Promise.all(tickets.map((t) => adm('PATCH', `/api/v1/tickets/${t.id}`, {team_id: team.id})));
    const per = {};
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      per[a.json.assignee_id] = (per[a.json.assignee_id] || 0) + 1;
    }
    assert.deepEqual(per, {[agentA.user.id]: 10, [agentB.user.id]: 10, [agentC.user.id]: 10});
  });

  test('max_open skips members at their load; nobody eligible leaves the ticket in the team queue', async () => {
    const team = await newTeam('Sınırlı', {round_robin: true, max_open: 1});
    const solo = await createUser(server, admin, {name: 'Tek Kişi'});
    const soloSession = await login(server, solo.email, solo.password);
    await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: [solo.id]});
    const t1 = await newTicket(), t2 = await newTicket();
    assert.equal((await adm('PATCH', `/api/v1/tickets/${t1.id}`, {team_id: team.id})).json.assignee_id, solo.id);
    const second = await adm('PATCH', `/api/v1/tickets/${t2.id}`, {team_id: team.id});
    assert.equal(second.json.assignee_id, null);
    assert.equal(second.json.team_id, team.id);
    // Solving the first frees a place.
    await as(soloSession)('PATCH', `/api/v1/tickets/${t1.id}`, {status: 'solved'});
    const t3 = await newTicket();
    assert.equal((await adm('PATCH', `/api/v1/tickets/${t3.id}`, {team_id: team.id})).json.assignee_id, solo.id);
    // A deactivated member is skipped too.
    await adm('PATCH', `/api/v1/teams/${team.id}`, {max_open: null});
    await adm('PATCH', `/api/v1/users/${solo.id}`, {active: false});
    const t4 = await newTicket();
    assert.equal((await adm('PATCH', `/api/v1/tickets/${t4.id}`, {team_id: team.id})).json.assignee_id, null);
  });

  test('the trigger action assign_round_robin', async () => {
    const team = await newTeam('Tetik', {round_robin: false});
    await adm('PUT', `/api/v1/teams/${team.id}/members`, {user_ids: [agentA.user.id, agentB.user.id]});
    assertError(await adm('POST', '/api/v1/triggers', {name: 'rr', event: 'ticket.created',
      actions: {assign_round_robin: 999999}}), 422, 'invalid_field', 'actions');
    assertError(await adm('POST', '/api/v1/triggers', {name: 'rr', event: 'ticket.created',
      actions: {assign_round_robin: team.id, assignee_id: agentA.user.id}}), 422, 'invalid_field', 'actions');
    const trg = await adm('POST', '/api/v1/triggers', {name: 'rr', event: 'ticket.created', conditions: {contains: 'robin'},
      actions: {assign_round_robin: team.id}});
    assert.equal(trg.status, 201, trg.text);
    const got = [];
    for (let i = 0; i < 4; i++) {
      const t = await newTicket({subject: `robin ${i}`});
      const full = (await adm('GET', `/api/v1/tickets/${t.id}`)).json;
      assert.equal(full.team_id, team.id);
      got.push(full.assignee_id);
    }
    assert.deepEqual(new Set(got), new Set([agentA.user.id, agentB.user.id]));
    assert.notEqual(got[0], got[1]);
    assert.equal(got[0], got[2]);
    const plain = await newTicket({subject: 'başka'});
    assert.equal((await adm('GET', `/api/v1/tickets/${plain.id}`)).json.assignee_id, null);
    await adm('DELETE', `/api/v1/triggers/${trg.json.id}`);
  });
});
