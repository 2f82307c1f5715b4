// The feedback module's part of the agents' app: the CSAT panel beside a ticket (slot ticket.side), and the Feedback
// page — CSAT figures per agent and team, the review moderation queue (decisions only by a written rule, public
// replies), and NPS surveys with their results.
import { CsatPanel } from './panel.js';
import { FeedbackPage } from './page.js';

export const routes = [{ path: '/app/feedback', page: FeedbackPage }];

export const nav = [{ id: 'feedback', href: '/app/feedback', label: 'feedback.nav', order: 60 }];

export const panels = [{ slot: 'ticket.side', id: 'csat', panel: CsatPanel, order: 20 }];

export const events = ['csat.requested', 'csat.rated', 'review.submitted', 'review.moderated', 'review.replied', 'survey.answered'];

export const errors = {
  rule_required: 'feedback.err_rule_required',
  consent_unavailable: 'feedback.err_consent_unavailable',
  already_sent: 'feedback.err_already_sent',
};
