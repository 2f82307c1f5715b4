// The reports module's part of the agents' app: the dashboard (/app/reports) and the list behind a chart
// (/app/reports/list). Only the kinds some module publishes are shown (GET /api/v1/reports/dashboard).
import { ReportsPage } from './dashboard.js';
import { DrillPage } from './drill.js';

export const routes = [
  { path: '/app/reports', page: ReportsPage },
  { path: '/app/reports/list', page: DrillPage },
];

export const nav = [{ id: 'reports', href: '/app/reports', label: 'reports.nav', order: 80 }];

export const errors = { forbidden: 'reports.forbidden' };
