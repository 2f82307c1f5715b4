// The orders module's part of the agents' app (plugins/README.md, "A module's screens and pages"): the orders screen
// and an order's page, the order panel beside a ticket (slot ticket.side) with linking, the admin screens of order
// sources (with the delivery log) and carriers, and its events offered on the webhooks screen.
import { OrdersPanel } from './panel.js';
import { SourcesScreen } from './sources.js';
import { CarriersScreen } from './carriers.js';
import { OrdersPage } from './orders.js';
import { OrderPage } from './detail.js';

export const routes = [
  { path: '/app/orders', page: OrdersPage },
  { path: '/app/orders/{number}', page: OrderPage },
];

export const nav = [{ id: 'orders', href: '/app/orders', label: 'orders.nav', order: 30 }];

export const panels = [{ slot: 'ticket.side', id: 'orders', panel: OrdersPanel, order: 10 }];

export const admin = [
  { id: 'order_sources', label: 'orders.tab_sources', screen: SourcesScreen, order: 200 },
  { id: 'order_carriers', label: 'orders.tab_carriers', screen: CarriersScreen, order: 210 },
];

export const errors = { source_in_use: 'orders.source_in_use' };

export const events = ['order.*', 'order.created', 'order.updated', 'order.linked', 'order.unlinked', 'shipment.*',
  'shipment.created', 'shipment.updated'];
