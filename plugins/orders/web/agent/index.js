// The orders module's part of the agents' app (plugins/README.md, "A module's screens and pages"): the order panel
// beside a ticket (slot ticket.side), the admin screen of order sources and deliveries, and its events offered on the
// webhooks screen.
import { OrdersPanel } from './panel.js';
import { SourcesScreen } from './sources.js';

export const panels = [{ slot: 'ticket.side', id: 'orders', panel: OrdersPanel, order: 10 }];

export const admin = [{ id: 'order_sources', label: 'orders.tab_sources', screen: SourcesScreen, order: 200 }];

export const events = ['order.*', 'order.created', 'order.updated', 'shipment.*', 'shipment.created', 'shipment.updated'];
