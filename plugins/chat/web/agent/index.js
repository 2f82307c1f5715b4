// The chat module's part of the agents' app: beside a chat or WhatsApp ticket (slot ticket.side), what the ticket
// view does not show of the channel — the visitor typing and their read mark, the WhatsApp 24-hour window, each
// message's delivery status, and the shop's approved templates. Agents answer in the ticket's own composer; the
// reply goes to the chat or WhatsApp (ticketing offers it to chat.channel_send). Admins: the shops the widget runs
// on, with the snippet to paste (Admin → Chat shops).
import { ChatPanel } from './panel.js';
import { ShopsScreen } from './shops.js';

export const panels = [{ slot: 'ticket.side', id: 'chat', panel: ChatPanel, order: 5 }];

export const admin = [{ id: 'chat_shops', label: 'chat.tab_shops', screen: ShopsScreen, order: 220 }];

export const errors = { whatsapp_window_closed: 'chat.wa_window_closed', origin_not_allowed: 'chat.origin_not_allowed',
  shop_in_use: 'chat.shop_in_use' };
