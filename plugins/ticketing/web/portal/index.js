// Ticketing's part of the customer portal (its manifest; see plugins/README.md, "A module's screens and pages"): the
// web form and a ticket's page. The server serves these addresses because ticketing registers the same patterns in
// its init (ticketing.c, assets_portal_page; the ticket's page with noindex); keep the two lists alike.
import { contactPage } from './form.js';
import { ticketPage } from './ticket.js';

export const pages = [
  // ?order=, ?name=, ?email=, ?subject= prefill the form.
  { path: '/contact', page: ({ query, update }) => contactPage(query, update) },
  // The link in our mails: /t/<number>?sig=<signature>; the page shows the ticket in its customer's language.
  { path: '/t/{number}', page: ({ params, query, update, suggestLang }) => ticketPage(params.number, query.get('sig'), update, suggestLang) },
];
