// Ticketing's part of the agents' app (its manifest; the fields are described in plugins/README.md, "A module's
// screens and pages"): the inbox and the ticket page, the Inbox item of the top bar (the home page: it comes first),
// the admin screens for mail, SLAs, calendars, teams (members and round-robin), macros, triggers and unreadable mail, and the keys the
// inbox and the ticket page answer. The ticket page offers other modules the slot "ticket.side" (the customer
// panel), with the props {ticket, customer}.
import { Inbox } from './inbox.js';
import { TicketPage } from './ticket.js';
import { Mailboxes } from './admin/mailboxes.js';
import { SlaScreen } from './admin/sla.js';
import { CalendarsScreen } from './admin/calendars.js';
import { TeamsScreen } from './admin/teams.js';
import { MacrosScreen } from './admin/macros.js';
import { TriggersScreen } from './admin/triggers.js';
import { UnparsedScreen } from './admin/unparsed.js';
import { NotificationsBell } from './notifications.js';
import { MailBanner } from './mailbanner.js';

export const routes = [
  { path: '/app/tickets', page: Inbox },
  { path: '/app/tickets/{id:int}', page: TicketPage },
];

export const nav = [{ id: 'inbox', href: '/app/tickets', label: 'nav.inbox', order: 10 }];

// The bell of the agent's notifications (notifications.js), in the top bar.
// For admins, the banner above every page while outgoing mail is not set (mailbanner.js).
export const panels = [{ slot: 'topbar', id: 'notifications', panel: NotificationsBell, order: 10 },
  { slot: 'banner', id: 'mail_setup', panel: MailBanner, order: 10, role: 'admin' }];

export const admin = [
  { id: 'mailboxes', label: 'admin.tab_mailboxes', screen: Mailboxes, order: 100 },
  { id: 'sla', label: 'admin.tab_sla', screen: SlaScreen, order: 110 },
  { id: 'calendars', label: 'admin.tab_calendars', screen: CalendarsScreen, order: 120 },
  { id: 'teams', label: 'admin.tab_teams', screen: TeamsScreen, order: 125 },
  { id: 'macros', label: 'admin.tab_macros', screen: MacrosScreen, order: 130 },
  { id: 'triggers', label: 'admin.tab_triggers', screen: TriggersScreen, order: 140 },
  { id: 'unparsed', label: 'admin.tab_unparsed', screen: UnparsedScreen, order: 150 },
];

export const shortcuts = [
  { keys: 'j / k', label: 'keys.move', order: 10 },
  { keys: 'Enter', label: 'keys.open', order: 11 },
  { keys: 'r', label: 'keys.reply', order: 12 },
  { keys: 'n', label: 'keys.note', order: 13 },
  { keys: 'a', label: 'keys.assign', order: 14 },
  { keys: '/', label: 'keys.search', order: 15 },
  { keys: 'u', label: 'keys.back', order: 16 },
  { keys: 'o / p / h', label: 'keys.status', order: 17 },
  { keys: 's', label: 'keys.solve', order: 18 },
];

// The events ticketing emits (plugins/ticketing/EVENTS.md), offered as quick picks on the webhooks screen.
export const events = ['ticket.*', 'ticket.created', 'ticket.updated', 'ticket.assigned', 'ticket.solved', 'ticket.merged',
  'message.added', 'customer.merged', 'sla.warning', 'sla.breached'];

// Words for the API's refusals that the admin screens show (the calendars and teams screen).
export const errors = { calendar_in_use: 'admin.err_calendar_in_use', team_in_use: 'admin.err_team_in_use' };
