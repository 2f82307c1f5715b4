// A ticket's history (GET /tickets/{id} -> history: {actor, actor_name, field, old, new, created_at}) written
// out as sentences in the user's language: "Ayşe Demir changed the status from Open to Pending".
import { dateTime, html, t, when } from '@destek/agent';

function parseList(text) {
  try {
    const v = JSON.parse(text || '[]');
    return Array.isArray(v) ? v : [];
  } catch (e) {
    return [];
  }
}

function parseObject(text) {
  try {
    const v = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch (e) {
    return {};
  }
}

const STATUS_KEYS = { new: 'status.new', open: 'status.open', pending: 'status.pending', on_hold: 'status.on_hold',
  solved: 'status.solved', closed: 'status.closed' };
const PRIORITY_KEYS = { low: 'priority.low', normal: 'priority.normal', high: 'priority.high', urgent: 'priority.urgent' };
const named = (keys, value) => (keys[value] ? t(keys[value]) : value || '—');

/* One history line as text. names(kind, id) gives a user's or team's name ("#id" when unknown). */
export function historyText(h, names) {
  const who = h.actor_name || (h.actor === 'system' ? t('author.system') : h.actor);
  const user = (id) => (id ? names('user', Number(id)) : '—');
  switch (h.field) {
    case 'created': return t('hist.created', { who });
    case 'status': return t('hist.status', { who, from: named(STATUS_KEYS, h.old), to: named(STATUS_KEYS, h.new) });
    case 'priority': return t('hist.priority', { who, from: named(PRIORITY_KEYS, h.old), to: named(PRIORITY_KEYS, h.new) });
    case 'subject': return t('hist.subject', { who, to: h.new || '' });
    case 'assignee_id':
      if (!h.new) return t('hist.unassigned', { who, from: user(h.old) });
      if (h.actor === 'user:' + h.new) return t('hist.took', { who });
      return t('hist.assigned', { who, to: user(h.new) });
    case 'team_id':
      return h.new ? t('hist.team', { who, to: names('team', Number(h.new)) })
        : t('hist.team_none', { who, from: names('team', Number(h.old)) });
    case 'tags': {
      const before = parseList(h.old);
      const after = parseList(h.new);
      const added = after.filter((x) => !before.includes(x));
      const removed = before.filter((x) => !after.includes(x));
      const parts = [];
      if (added.length) parts.push(t('hist.tags_added', { who, tags: added.join(', ') }));
      if (removed.length) parts.push(t(added.length ? 'hist.tags_removed_also' : 'hist.tags_removed', { who, tags: removed.join(', ') }));
      return parts.join('; ') || t('hist.tags_added', { who, tags: '—' });
    }
    case 'custom_fields': {
      const a = parseObject(h.old);
      const b = parseObject(h.new);
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
      return t('hist.custom_fields', { who, names: keys.join(', ') || '—' });
    }
    case 'reply': return t('hist.reply', { who });
    case 'note': return t('hist.note', { who });
    case 'customer': return t('hist.customer', { who });
    case 'first_response_at': return t('hist.first_response');
    case 'merged_into': return t('hist.merged_into', { who, ref: h.new || '' });
    case 'merged_from': return t('hist.merged_from', { who, ref: h.new || '' });
    case 'customer_id': return t('hist.customer_merged', { who });
    case 'trigger': return t('hist.trigger', { name: h.new || '' });
    case 'snoozed_until': return h.new ? t('hist.snoozed', { who, until: dateTime(h.new) }) : t('hist.unsnoozed', { who });
    case 'snooze_ended': return t('hist.snooze_ended');
    case 'forwarded': return t('hist.forwarded', { who, to: h.new || '' });
    default: return t('hist.other', { who, field: h.field, from: h.old || '—', to: h.new || '—' });
  }
}

export function History({ items, names }) {
  if (!items || !items.length) return null;
  return html`<details class="history card" data-region="history">
    <summary>${t('ticket.history')} <span class="muted">(${items.length})</span></summary>
    <ol class="history-list">${items.map((h) => html`<li key=${h.id} data-history-field=${h.field}>
      <time datetime=${h.created_at} title=${dateTime(h.created_at)}>${when(h.created_at)}</time>
      <span class="history-text">${historyText(h, names)}</span>
    </li>`)}</ol>
  </details>`;
}
