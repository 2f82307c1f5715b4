/* Templates of the mails ticketing sends: the acknowledgement, the agent's reply, the solved notice and the merge
 * notice, in Turkish and English, as plain text and HTML. The HTML escapes every value it is given.
 *
 * The acknowledgement goes to whatever address was typed into the web form (or forged as a mail's sender), before
 * anyone at the shop has seen the request: it carries no text the sender wrote — not the name, not the subject —
 * only the ticket's number, our own words and the link, so that the shop's mail server cannot be made to carry
 * someone's words to a stranger. */
#include "mail_tkt.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define S(x) ((x) ? (x) : "")

static void html_escape(sqlite3_str *s, const char *t)
{
  for (; t && *t; t++) {
    switch (*t) {
    case '&': sqlite3_str_appendall(s, "&amp;"); break;
    case '<': sqlite3_str_appendall(s, "&lt;"); break;
    case '>': sqlite3_str_appendall(s, "&gt;"); break;
    case '"': sqlite3_str_appendall(s, "&quot;"); break;
    case '\'': sqlite3_str_appendall(s, "&#39;"); break;
    case '\n': sqlite3_str_appendall(s, "<br>\n"); break;
    case '\r': break;
    default: sqlite3_str_appendchar(s, 1, *t);
    }
  }
}

struct texts {
  const char *subject_prefix;   /* before "[#ref] subject" */
  const char *own_subject;      /* when set, "[#ref] own_subject": nothing the sender typed (the acknowledgement) */
  const char *greeting, *greeting_anon; /* "%s" is the name */
  const char *lead;             /* "%s" is the reference */
  const char *link_intro;
  const char *closing;
};

static const struct texts *texts_for(const char *kind, int en)
{
  static const struct texts ack[2] = {
    { "", "Talebinizi aldık", NULL, "Merhaba,",
      "Talebinizi aldık; numarası %s. Ekibimiz en kısa sürede size dönecek. Bu e-postayı yanıtlayarak talebinize"
      " ekleme yapabilirsiniz.",
      "Talebinizi buradan izleyebilirsiniz:", "Teşekkürler,\nDestek ekibi" },
    { "", "We have received your request", NULL, "Hello,",
      "We have received your request; its reference is %s. Our team will get back to you soon. Reply to this e-mail"
      " to add to it.",
      "You can follow your request here:", "Thank you,\nThe support team" },
  };
  static const struct texts reply[2] = {
    { "Re: ", NULL, "Merhaba %s,", "Merhaba,", NULL, "Talebinizi buradan izleyebilirsiniz:",
      "Destek ekibi" },
    { "Re: ", NULL, "Hello %s,", "Hello,", NULL, "You can follow your request here:", "The support team" },
  };
  static const struct texts solved[2] = {
    { "", NULL, "Merhaba %s,", "Merhaba,",
      "%s numaralı talebiniz çözüldü olarak işaretlendi. Hâlâ yardıma ihtiyacınız varsa bu e-postayı yanıtlamanız"
      " yeterli; talebiniz yeniden açılır.",
      "Talebinizi buradan görebilirsiniz:", "Teşekkürler,\nDestek ekibi" },
    { "", NULL, "Hello %s,", "Hello,",
      "Your request %s has been marked as solved. If you still need help, just reply to this e-mail and it will be"
      " reopened.",
      "You can see your request here:", "Thank you,\nThe support team" },
  };
  static const struct texts merged[2] = {
    { "", NULL, "Merhaba %s,", "Merhaba,",
      "%s numaralı talebiniz bu taleple birleştirildi; yazışmanız artık burada devam edecek.",
      "Talebinizi buradan izleyebilirsiniz:", "Teşekkürler,\nDestek ekibi" },
    { "", NULL, "Hello %s,", "Hello,",
      "Your request %s has been merged into this one; the conversation continues here.",
      "You can follow your request here:", "Thank you,\nThe support team" },
  };
  if (!strcmp(kind, "ack")) return &ack[en];
  if (!strcmp(kind, "reply")) return &reply[en];
  if (!strcmp(kind, "solved")) return &solved[en];
  if (!strcmp(kind, "merged")) return &merged[en];
  return NULL;
}

static char *finish(sqlite3_str *s)
{
  char *t = sqlite3_str_finish(s);
  if (!t) abort();  /* out of memory */
  char *out = strdup(t);
  sqlite3_free(t);
  if (!out) abort();
  return out;
}

int mail_tpl_render(const char *kind, const struct mail_tpl_vars *v, char **subject, char **text, char **html)
{
  int en = v->lang && !strcmp(v->lang, "en");
  const struct texts *t = texts_for(kind, en);
  if (!t) return -1;
  const char *name = t->own_subject ? "" : S(v->name);   /* an acknowledgement names no one */
  /* The lead names the merged-in ticket for a merge notice, this ticket otherwise. */
  const char *lead_ref = !strcmp(kind, "merged") ? S(v->source_reference) : S(v->reference);

  sqlite3_str *s = sqlite3_str_new(NULL);
  sqlite3_str_appendf(s, "%s[%s] %s", t->subject_prefix, S(v->reference),
                      t->own_subject ? t->own_subject : S(v->subject));
  *subject = finish(s);

  sqlite3_str *tx = sqlite3_str_new(NULL), *hx = sqlite3_str_new(NULL);
  sqlite3_str_appendall(hx, "<!DOCTYPE html><html><body style=\"font-family:sans-serif;line-height:1.5\">\n<p>");
  if (*name) {
    sqlite3_str_appendf(tx, t->greeting, name);
    const char *pct = strstr(t->greeting, "%s");
    sqlite3_str_append(hx, t->greeting, (int)(pct - t->greeting));
    html_escape(hx, name);
    html_escape(hx, pct + 2);
  } else {
    sqlite3_str_appendall(tx, t->greeting_anon);
    html_escape(hx, t->greeting_anon);
  }
  sqlite3_str_appendall(tx, "\n\n");
  sqlite3_str_appendall(hx, "</p>\n");
  if (t->lead) {
    sqlite3_str_appendf(tx, t->lead, lead_ref);
    sqlite3_str_appendall(tx, "\n\n");
    const char *pct = strstr(t->lead, "%s");
    sqlite3_str_appendall(hx, "<p>");
    sqlite3_str_append(hx, t->lead, (int)(pct - t->lead));
    sqlite3_str_appendall(hx, "<strong>");
    html_escape(hx, lead_ref);
    sqlite3_str_appendall(hx, "</strong>");
    html_escape(hx, pct + 2);
    sqlite3_str_appendall(hx, "</p>\n");
    if (v->notice && *v->notice) {
      sqlite3_str_appendall(tx, v->notice);
      sqlite3_str_appendall(tx, "\n\n");
      sqlite3_str_appendall(hx, "<p>");
      html_escape(hx, v->notice);
      sqlite3_str_appendall(hx, "</p>\n");
    }
  } else {
    sqlite3_str_appendall(tx, S(v->body_text));
    sqlite3_str_appendall(tx, "\n\n");
    sqlite3_str_appendall(hx, "<div>");
    if (v->body_html && *v->body_html) sqlite3_str_appendall(hx, v->body_html);  /* sanitised by the caller */
    else html_escape(hx, S(v->body_text));
    sqlite3_str_appendall(hx, "</div>\n");
  }
  if (v->link && *v->link) {
    sqlite3_str_appendf(tx, "%s\n%s\n\n", t->link_intro, v->link);
    sqlite3_str_appendall(hx, "<p>");
    html_escape(hx, t->link_intro);
    sqlite3_str_appendall(hx, " <a href=\"");
    html_escape(hx, v->link);
    sqlite3_str_appendall(hx, "\">");
    html_escape(hx, S(v->reference));
    sqlite3_str_appendall(hx, "</a></p>\n");
  }
  sqlite3_str_appendf(tx, "%s\n", t->closing);
  sqlite3_str_appendall(hx, "<p>");
  html_escape(hx, t->closing);
  sqlite3_str_appendall(hx, "</p>\n</body></html>\n");
  *text = finish(tx);
  *html = finish(hx);
  return 0;
}
