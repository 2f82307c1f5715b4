// The returns module's part of the agents' app (plugins/README.md, "A module's screens and pages"): the approval
// queue and a return's screen with the order and photos beside it, the returns panel beside a ticket (slot
// ticket.side), the admin screen that explains the policy's rules and sets products' exceptions, and its events on
// the webhooks screen.
import { QueuePage } from './queue.js';
import { ReturnPage } from './return.js';
import { ReturnsPanel } from './panel.js';
import { PolicyScreen } from './policy.js';

export const routes = [
  { path: '/app/returns', page: QueuePage },
  { path: '/app/returns/{id:int}', page: ReturnPage },
];

export const nav = [{ id: 'returns', href: '/app/returns', label: 'returns.nav', order: 35 }];

export const panels = [{ slot: 'ticket.side', id: 'returns', panel: ReturnsPanel, order: 20 }];

export const admin = [{ id: 'returns_policy', label: 'returns.policy_tab', screen: PolicyScreen, order: 210 }];

export const events = ['return.*', 'return.requested', 'return.approved', 'return.rejected', 'return.shipped_back',
  'return.received', 'return.inspected', 'return.refunded', 'return.exchanged', 'return.credited',
  'return.message_added'];

export const errors = { invalid_transition: 'returns.err_transition', not_eligible: 'returns.err_not_eligible' };
