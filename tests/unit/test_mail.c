/* mail: the corpus in tests/mail/corpus (written by tests/mail/make_corpus.py) parsed and asserted exactly;
 * every fixture truncated at every 97th byte (no crash, no leak under ASan); HTML sanitising, the text rendering,
 * ticket references, quoted-text stripping; composed messages checked for CRLF, line length and a round trip.
 *   test_mail            run the tests (fixtures found from this file's path, or $DESTEK_MAIL_CORPUS)
 *   test_mail FILE...    print what the parser makes of each file (for writing new assertions) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mail.h"

static char corpus_dir[4096];

static void find_corpus(void)
{
  const char *env = getenv("DESTEK_MAIL_CORPUS");
  if (env) { snprintf(corpus_dir, sizeof corpus_dir, "%s", env); return; }
  /* __FILE__ is the absolute path CMake compiled: <src>/tests/unit/test_mail.c */
  snprintf(corpus_dir, sizeof corpus_dir, "%s", __FILE__);
  char *slash = strrchr(corpus_dir, '/');
  if (slash) *slash = 0; else strcpy(corpus_dir, ".");
  strncat(corpus_dir, "/../mail/corpus", sizeof corpus_dir - strlen(corpus_dir) - 1);
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "short read %s\n", path); exit(2); }
  buf[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static struct mail_message *parse_fixture(const char *name)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", corpus_dir, name);
  size_t len;
  char *raw = read_file(path, &len);
  char err[200];
  struct mail_message *m = mail_parse_new(raw, len, err, sizeof err);
  if (!m) fprintf(stderr, "%s: %s\n", name, err);
  free(raw);
  return m;
}

static int streq(const char *a, const char *b)
{
  if (a == b) return 1;
  if (!a || !b) { fprintf(stderr, "  got %s, want %s\n", a ? a : "NULL", b ? b : "NULL"); return 0; }
  if (strcmp(a, b)) { fprintf(stderr, "  got  [%s]\n  want [%s]\n", a, b); return 0; }
  return 1;
}

static void dump(const char *path)
{
  size_t len;
  char *raw = read_file(path, &len);
  char err[200];
  struct mail_message *m = mail_parse_new(raw, len, err, sizeof err);
  free(raw);
  printf("== %s\n", path);
  if (!m) { printf("NULL: %s\n", err); return; }
  printf("message_id=%s\nin_reply_to=%s\n", m->message_id, m->in_reply_to);
  for (size_t i = 0; i < m->references_count; i++) printf("references[%zu]=%s\n", i, m->references[i]);
  printf("from=[%s] <%s>\nreply_to=[%s] <%s>\n", m->from.name, m->from.address, m->reply_to.name, m->reply_to.address);
  for (size_t i = 0; i < m->to_count; i++) printf("to[%zu]=[%s] <%s>\n", i, m->to[i].name, m->to[i].address);
  for (size_t i = 0; i < m->cc_count; i++) printf("cc[%zu]=[%s] <%s>\n", i, m->cc[i].name, m->cc[i].address);
  printf("subject=[%s]\ndate=%lld\ntext=[%s]\nhtml=[%s]\n", m->subject, (long long)m->date, m->text, m->html);
  for (size_t i = 0; i < m->attachments_count; i++) {
    struct mail_attachment *a = &m->attachments[i];
    printf("attachment[%zu] filename=[%s] type=%s cid=%s inline=%d size=%zu\n", i, a->filename, a->content_type,
           a->content_id, a->is_inline, a->size);
  }
  printf("auto=%d bounce=%d bounce_id=%s\n", m->is_auto_reply, m->is_bounce, m->bounce_message_id);
  mail_message_free(m);
}

/* ---- the corpus ------------------------------------------------------------------------------------------ */

static void test_iso88599(void)
{
  struct mail_message *m = parse_fixture("tr_iso88599.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "Sipariş iptali: ğüşıöçİ ĞÜŞIÖÇ"));
  CHECK(streq(m->from.name, "Ayşe Yılmaz"));
  CHECK(streq(m->from.address, "ayse@example.com.tr"));
  CHECK(m->to_count == 1 && streq(m->to[0].name, "Destek") && streq(m->to[0].address, "destek@magaza.example"));
  CHECK(streq(m->message_id, "iso1@example.com.tr"));
  CHECK(m->date == 1795418100); /* 2026-11-23 07:15:00 UTC */
  CHECK(streq(m->text, "Merhaba,\nsiparişimi iptal etmek istiyorum: ğüşıöçİ ĞÜŞIÖÇ\nTeşekkürler."));
  CHECK(m->html == NULL);
  CHECK(m->attachments_count == 0);
  CHECK(m->is_auto_reply == MAIL_AUTO_NONE && !m->is_bounce);
  mail_message_free(m);
}

static void test_cp1254(void)
{
  struct mail_message *m = parse_fixture("tr_cp1254.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "İade talebi ğüşıöç"));
  CHECK(streq(m->from.name, "Mehmet Öztürk"));
  CHECK(m->cc_count == 2);
  if (m->cc_count == 2) {
    CHECK(streq(m->cc[0].name, "Muhasebe") && streq(m->cc[0].address, "muhasebe@magaza.example"));
    CHECK(m->cc[1].name == NULL && streq(m->cc[1].address, "satis@magaza.example"));
  }
  /* labelled ISO-8859-9 but written as windows-1254: the quotes and the euro sign survive */
  CHECK(streq(m->text, "İade için “kargo” ücreti 50 € mu?\nŞimdiden teşekkürler."));
  mail_message_free(m);
}

static void test_utf8(void)
{
  struct mail_message *m = parse_fixture("tr_utf8.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "Fatura: ğüşıöçİ"));
  CHECK(streq(m->from.name, "Zeynep Çelik"));
  CHECK(streq(m->text, "Faturam ekte. Iğdır'dan yazıyorum: ğüşıöçİ."));
  CHECK(m->attachments_count == 1);
  if (m->attachments_count == 1) {
    CHECK(streq(m->attachments[0].filename, "fatura şubat 2026.pdf"));
    CHECK(streq(m->attachments[0].content_type, "application/pdf"));
    CHECK(m->attachments[0].size == 59 && !memcmp(m->attachments[0].data, "%PDF-1.4\n", 9));
    CHECK(!m->attachments[0].is_inline && !m->attachments[0].content_id);
  }
  mail_message_free(m);
}

static void test_broken_8bit(void)
{
  struct mail_message *m = parse_fixture("broken_8bit.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "Ürün hasarlı geldi, değişim istiyorum"));
  CHECK(streq(m->from.name, "Gökhan Işık"));
  CHECK(streq(m->from.address, "gokhan@example.com"));
  CHECK(streq(m->text, "Kutunun içi ıslaktı. Lütfen değiştirin."));
  mail_message_free(m);
}

static void test_nested(void)
{
  struct mail_message *m = parse_fixture("nested.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "Fotoğraflar ve fatura"));
  CHECK(streq(m->from.name, "Ayşe"));
  CHECK(streq(m->text, "Hasarlı ürünün fotoğrafı ekte."));
  CHECK(streq(m->html, "<p>Hasarlı ürün:</p><img data-attachment-index=\"0\" alt=\"foto\">"));
  CHECK(m->attachments_count == 3);
  if (m->attachments_count == 3) {
    struct mail_attachment *a = m->attachments;
    CHECK(streq(a[0].filename, "foto.png") && streq(a[0].content_type, "image/png"));
    CHECK(streq(a[0].content_id, "foto1@example.com.tr") && a[0].is_inline && a[0].size == 70);
    CHECK(!memcmp(a[0].data, "\x89PNG", 4));
    CHECK(streq(a[1].filename, "İrsaliye Kasım.pdf") && streq(a[1].content_type, "application/pdf"));
    CHECK(!a[1].is_inline && a[1].size == 59);
    CHECK(streq(a[2].filename, "[#1001] Siparişiniz alındı.eml") && streq(a[2].content_type, "message/rfc822"));
    CHECK(!a[2].is_inline && a[2].size > 100 && strstr((char *)a[2].data, "Talebiniz al"));
  }
  const char *urls[] = { "/api/v1/attachments/77?x=\"1\"" };
  char *bound = mail_html_bind_attachments_new(m->html, urls, 1);
  CHECK(streq(bound, "<p>Hasarlı ürün:</p><img src=\"/api/v1/attachments/77?x=&quot;1&quot;\" alt=\"foto\">"));
  free(bound);
  CHECK(!m->is_bounce && m->is_auto_reply == MAIL_AUTO_NONE);
  mail_message_free(m);
}

static void test_html_only(void)
{
  struct mail_message *m = parse_fixture("html_only.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "Ödeme linki"));
  const char *want_html =
    "\n"
    "<h1>Merhaba &amp; ho&#351; geldiniz</h1>\n"
    "<p style=\"color: red; font-weight: bold\">&Ouml;deme i&ccedil;in <a>buraya</a> ya da "
    "<a href=\"https://magaza.example/odeme?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">"
    "şuraya</a> tıklayın.</p>\n"
    "<img><img data-remote-src=\"https://t.example/pixel.gif\" width=\"1\" height=\"1\">"
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"logo\"><img>\n"
    "Şifre\n"
    "<a>x</a><a>y</a><ul><li>Bir<li>İki</li></li></ul>\n"
    "<div>Açık div<table><tr><td>a</td><td>b</td></tr></table>\n"
    "\n</div>";
  CHECK(streq(m->html, want_html));
  CHECK(!strstr(m->html, "script") && !strstr(m->html, "onerror") && !strstr(m->html, "javascript"));
  CHECK(!strstr(m->html, "iframe") && !strstr(m->html, "form") && !strstr(m->html, "url("));
  CHECK(streq(m->text, "Merhaba & hoş geldiniz\n"
                       "Ödeme için buraya ya da şuraya <https://magaza.example/odeme?a=1&b=2> tıklayın.\n"
                       "Şifre\n"
                       "xy\n"
                       "- Bir\n"
                       "- İki\n"
                       "Açık div\n"
                       "a b"));
  mail_message_free(m);
}

static void test_reply(void)
{
  struct mail_message *m = parse_fixture("reply.eml");
  CHECK(m);
  if (!m) return;
  CHECK(streq(m->subject, "Re: Fwd: [#1042] Kargom nerede?"));
  CHECK(streq(m->message_id, "CAF=reply-1@mail.example.com"));
  CHECK(streq(m->in_reply_to, "tkt-1042-3@magaza.example"));
  CHECK(m->references_count == 3);
  if (m->references_count == 3) {
    CHECK(streq(m->references[0], "tkt-1042-1@magaza.example"));
    CHECK(streq(m->references[1], "tkt-1042-2@magaza.example"));
    CHECK(streq(m->references[2], "tkt-1042-3@magaza.example"));
  }
  CHECK(streq(m->from.name, "Ayşe Yılmaz"));  /* two padded B words: the GMime 3.2.13 workaround */
  CHECK(m->reply_to.name == NULL && streq(m->reply_to.address, "ayse.yilmaz@example.com.tr"));
  char *ref = mail_ticket_ref_new(m->subject);
  CHECK(streq(ref, "1042"));
  free(ref);
  char *fresh = mail_strip_quoted_new(m->text);
  CHECK(streq(fresh, "Teşekkürler, kargo bugün geldi."));
  free(fresh);
  CHECK(m->is_auto_reply == MAIL_AUTO_NONE && !m->is_bounce);
  mail_message_free(m);
}

static void test_auto(void)
{
  struct mail_message *m = parse_fixture("auto_reply.eml");
  CHECK(m);
  if (m) {
    CHECK(m->is_auto_reply == MAIL_AUTO_HEADER && !m->is_bounce);
    CHECK(streq(m->subject, "Otomatik yanıt: [#1042] Kargom nerede?"));
    CHECK(streq(m->text, "7 Aralık'a kadar izindeyim."));
    mail_message_free(m);
  }
  m = parse_fixture("ooo_subject.eml");
  CHECK(m);
  if (m) { CHECK(m->is_auto_reply == MAIL_AUTO_SUBJECT && !m->is_bounce); mail_message_free(m); }
  m = parse_fixture("bulk.eml");
  CHECK(m);
  if (m) { CHECK(m->is_auto_reply == MAIL_AUTO_HEADER && !m->is_bounce); mail_message_free(m); }
}

static void test_bounce(void)
{
  struct mail_message *m = parse_fixture("bounce.eml");
  CHECK(m);
  if (!m) return;
  CHECK(m->is_bounce && m->is_auto_reply == MAIL_AUTO_HEADER);
  CHECK(streq(m->bounce_message_id, "tkt-1042-5@magaza.example"));
  CHECK(streq(m->from.address, "MAILER-DAEMON@mx.magaza.example"));
  CHECK(streq(m->text, "<yok@example.invalid>: host not found"));
  CHECK(m->attachments_count == 2);
  if (m->attachments_count == 2) {
    CHECK(streq(m->attachments[0].content_type, "message/delivery-status"));
    CHECK(streq(m->attachments[0].filename, "attachment-1.txt"));
    CHECK(streq(m->attachments[1].content_type, "text/rfc822-headers"));
  }
  mail_message_free(m);
}

static void test_malformed(void)
{
  struct mail_message *m = parse_fixture("malformed.eml");
  CHECK(m); /* parsed as far as it goes, as mail clients do */
  if (m) {
    CHECK(streq(m->message_id, "malformed@example.com"));
    CHECK(m->date == 0);
    CHECK(!strncmp(m->subject, "Bozuk örnek", strlen("Bozuk örnek")));
    CHECK(strstr(m->text, "Ilk parca.") != NULL);
    mail_message_free(m);
  }
  m = parse_fixture("garbage.eml");
  CHECK(m == NULL);
  char err[100] = "x";
  CHECK(mail_parse_new("", 0, err, sizeof err) == NULL && err[0]);
  CHECK(mail_parse_new("hello world", 11, err, sizeof err) == NULL && err[0]);
  mail_message_free(NULL);
}

/* Every fixture cut at every 97th byte: parsing must not crash, and the result must be freeable. */
static void test_truncated(void)
{
  DIR *d = opendir(corpus_dir);
  CHECK(d);
  if (!d) return;
  int files = 0, parsed = 0, cuts = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strstr(e->d_name, ".eml")) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", corpus_dir, e->d_name);
    size_t len;
    char *raw = read_file(path, &len);
    files++;
    for (size_t cut = 0; cut <= len; cut += 97) {
      char *copy = malloc(cut + 1); /* exact-size copy: ASan catches reads past the cut */
      memcpy(copy, raw, cut);
      char err[100];
      struct mail_message *m = mail_parse_new(copy, cut, err, sizeof err);
      cuts++;
      if (m) {
        parsed++;
        CHECK(m->subject && m->text);
        mail_message_free(m);
      }
      free(copy);
    }
    free(raw);
  }
  closedir(d);
  CHECK(files == 13);
  CHECK(parsed > 0 && cuts > 0);
}

/* Message ids made only of control characters are absent, not "" (found by tests/fuzz/fuzz_mail_parse.c:
 * "References: <\x1f\x1f…>"; an empty id would match any other empty one). */
static void test_empty_ids(void)
{
  static const char raw[] = "From: a@b.example\r\nSubject: x\r\nMessage-ID: <\x1f\x1f>\r\nIn-Reply-To: <\x01>\r\n"
                            "References: <one@b.example> <two@b.example> <\x1f\x1f\x1f>\r\n\r\nbody\r\n";
  char err[200];
  struct mail_message *m = mail_parse_new(raw, sizeof raw - 1, err, sizeof err);
  CHECK(m);
  if (!m) return;
  CHECK(m->message_id == NULL);
  CHECK(m->in_reply_to == NULL);
  CHECK(m->references_count == 2);
  if (m->references_count == 2) {
    CHECK(streq(m->references[0], "one@b.example"));
    CHECK(streq(m->references[1], "two@b.example"));
  }
  mail_message_free(m);
}

/* ---- helpers without fixtures ---------------------------------------------------------------------------- */

static void test_ticket_ref(void)
{
  static const char *const cases[][2] = {
    { "[#1042] Kargom nerede?", "1042" }, { "Re: Fwd: [#1042] Kargom", "1042" }, { "YNT: Re:[#7]", "7" },
    { "Sipariş #1042", NULL }, { "[#] boş", NULL }, { "[#12a] x [#99] y", "99" }, { "", NULL },
    { "[#1234567890123456789] too long", NULL }, { NULL, NULL }
  };
  for (int i = 0; cases[i][0] || i == 0; i++) {
    char *r = mail_ticket_ref_new(cases[i][0]);
    CHECK(streq(r, cases[i][1]));
    free(r);
  }
}

static void test_strip_quoted(void)
{
  static const char *const cases[][2] = {
    /* English Gmail, attribution wrapped in two lines */
    { "Thanks!\n\nOn Mon, 30 Nov 2026 at 10:00, Destek <destek@magaza.example>\nwrote:\n> old\n> text\n", "Thanks!" },
    { "Tamam.\n\nOn Mon, 30 Nov 2026, Destek wrote:\n\n> eski\n", "Tamam." },
    /* Turkish Apple Mail */
    { "Olur.\n\n30 Kas 2026 tarihinde 10:00 saatinde, Destek <d@m.example> şunları yazdı:\n\n> eski\n", "Olur." },
    /* Outlook, Turkish and English */
    { "Merhaba,\niade ettim.\n\n-----Özgün İleti-----\nKimden: Destek\nKonu: x\n\neski metin\n", "Merhaba,\niade ettim." },
    { "Done.\n\n-----Original Message-----\nFrom: a\nSent: b\n", "Done." },
    { "Tamam\n\n________________________________\nKimden: Destek <d@m.example>\nGönderildi: 30 Kasım 2026\n"
      "Kime: a@b.example\nKonu: RE: [#5] x\n\neski\n", "Tamam" },
    /* interleaved answers are kept: the trailing quote block alone goes */
    { "> soru 1\ncevap 1\n> soru 2\ncevap 2\n\n> imza\n", "> soru 1\ncevap 1\n> soru 2\ncevap 2" },
    /* nothing new: keep everything rather than return nothing */
    { "> only a quote\n> here\n", "> only a quote\n> here" },
    /* "wrote:" in the middle of a sentence is not an attribution */
    { "He wrote: hello\nand more\n", "He wrote: hello\nand more" },
    { "", "" },
    { NULL, NULL }
  };
  for (int i = 0; cases[i][0]; i++) {
    char *r = mail_strip_quoted_new(cases[i][0]);
    if (!streq(r, cases[i][1])) fprintf(stderr, "  (strip case %d)\n", i);
    CHECK(!strcmp(r, cases[i][1]));
    free(r);
  }
}

static void test_sanitize_edges(void)
{
  static const char *const cases[][2] = {
    { "<b>kalın", "<b>kalın</b>" },
    { "</div></div>x<i>", "x<i></i>" },
    { "<p><b>a</p>b", "<p><b>a</b></p>b" },
    { "a < b > c", "a &lt; b &gt; c" },
    { "<img src=\"cid:yok\">", "<img>" },
    { "<img src=//cdn.example/a.png>", "<img data-remote-src=\"https://cdn.example/a.png\">" },
    { "<a href=\"&#106;avascript:alert(1)\">x</a>", "<a>x</a>" },
    { "<a href='mailto:a@b.example' title='\"q\"'>m</a>",
      "<a href=\"mailto:a@b.example\" title=\"&quot;q&quot;\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">"
      "m</a>" },
    { "<span style=\"color:expression(alert(1));width:10px;background:url(x)\">s</span>",
      "<span style=\"width: 10px\">s</span>" },
    { "<span style=\"color: rgb(1,2,3)\">c</span>", "<span style=\"color: rgb(1,2,3)\">c</span>" },
    { "<p style='font-family:\"Calibri\",sans-serif;position:fixed'>o</p>",
      "<p style=\"font-family: &quot;Calibri&quot;,sans-serif\">o</p>" },
    { "<div onmouseover=x() class=c id=i>d</div>", "<div>d</div>" },
    { "<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)" },
    { "<svg><script>alert(1)</script></svg>ok", "ok" },
    { "<!-- <script>x</script> -->ok<!-- unterminated", "ok" },
    { "<script>never closed", "" },
    { "<object data=x><embed src=y></object>z", "z" },
    { "<img src=x onerror=alert(1)//", "" },
    { "<table><tr><td colspan=2 onclick=x>t</td></tr></table>",
      "<table><tr><td colspan=\"2\">t</td></tr></table>" },
    { NULL, NULL }
  };
  for (int i = 0; cases[i][0]; i++) {
    char *r = mail_html_sanitize_new(cases[i][0], NULL, 0);
    if (!streq(r, cases[i][1])) fprintf(stderr, "  (sanitize case %d)\n", i);
    CHECK(!strcmp(r, cases[i][1]));
    free(r);
  }
  char *t = mail_html_to_text_new("<p>Fiyat:&nbsp;10&euro;</p><pre>  a\n  b</pre><a href=\"mailto:x@y.example\">x@y.example</a>");
  CHECK(streq(t, "Fiyat: 10€\n  a\n  b\nx@y.example"));
  free(t);
  /* The mail form (a shop's own HTML for its campaigns): remote images stay images; the rest as for display. */
  t = mail_html_sanitize_mail_new("<p onclick=\"x()\">Hi</p><script>alert(1)</script><img src=\"https://s.example/l.png\""
                                  " onerror=\"x()\"><img src=\"//s.example/m.png\"><a href=\"javascript:alert(1)\">j</a>"
                                  "<iframe src=\"https://e.example/\"></iframe>");
  CHECK(streq(t, "<p>Hi</p><img src=\"https://s.example/l.png\"><img src=\"https://s.example/m.png\"><a>j</a>"));
  free(t);
  /* A link with two hrefs: the first counts, as in a browser, and the other is not leaked (found by
   * tests/fuzz/fuzz_mail_html.c; the ASan build's leak check fails this test without the fix). */
  t = mail_html_to_text_new("<a href=\"https://a.example/\" href=\"https://b.example/\">x</a>");
  CHECK(streq(t, "x <https://a.example/>"));
  free(t);
  /* Character references to control characters put none in the text, as a text/plain body would have none
   * (found by tests/fuzz/fuzz_mail_parse.c: "ho&#3haba" in an HTML-only message). */
  t = mail_html_to_text_new("<p>a&#3;b&#1</p><pre>x&#2;\ty&#13;z&#x1F;</pre>ho&#3haba");
  CHECK(streq(t, "ab\nx\tyz\nhohaba"));
  free(t);
}

/* ---- compose --------------------------------------------------------------------------------------------- */

static int lines_ok(const char *raw, size_t len)
{
  size_t line = 0;
  for (size_t i = 0; i < len; i++) {
    if (raw[i] == '\n') {
      if (i == 0 || raw[i - 1] != '\r') return 0;
      line = 0;
      continue;
    }
    if ((unsigned char)raw[i] >= 0x80) return 0; /* 7-bit clean */
    if (++line > 998) return 0;
  }
  return 1;
}

static void test_compose(void)
{
  struct mail_address to[] = { { "Ayşe Yılmaz", "ayse@example.com.tr" } };
  const char *refs[40];
  char ids[40][64];
  for (int i = 0; i < 40; i++) {
    snprintf(ids[i], sizeof ids[i], "tkt-1042-%d-aaaaaaaaaaaaaaaa@magaza.example", i);
    refs[i] = ids[i];
  }
  char long_line[3000];
  memset(long_line, 'x', sizeof long_line - 1);
  long_line[sizeof long_line - 1] = 0;
  char *text = malloc(4000);
  snprintf(text, 4000, "Merhaba Ayşe Hanım,\nkargonuz yolda.\n%s\n", long_line);
  struct mail_attachment atts[] = {
    { "kargo fişi ğüş.pdf", "application/pdf", NULL, 0, (unsigned char *)"%PDF-1.4\nabc", 12 },
    { "logo.png", "image/png", "logo@magaza.example", 1, (unsigned char *)"\x89PNG\r\n\x1a\n", 8 },
  };
  struct mail_outgoing out = { 0 };
  out.from = (struct mail_address){ "Mağaza Destek", "destek@magaza.example" };
  out.to = to;
  out.to_count = 1;
  out.subject = "[#1042] Kargonuz yola çıktı\r\nBcc: evil@example.com";
  out.in_reply_to = "CAF=reply-1@mail.example.com";
  out.references = refs;
  out.references_count = 40;
  out.date = 1795418100;
  out.text = text;
  out.html = "<p>Merhaba <b>Ayşe</b> Hanım</p><img src=\"cid:logo@magaza.example\">";
  out.attachments = atts;
  out.attachments_count = 2;
  out.auto_submitted = 1;
  size_t len;
  char *raw = mail_compose_new(&out, &len);
  CHECK(raw && len > 0);
  if (!raw) return;
  CHECK(lines_ok(raw, len));
  CHECK(strstr(raw, "\r\nAuto-Submitted: auto-replied\r\n") != NULL);
  CHECK(strstr(raw, "\r\nBcc:") == NULL);
  CHECK(strstr(raw, "=?utf-8?") != NULL || strstr(raw, "=?UTF-8?") != NULL);

  char err[100];
  struct mail_message *m = mail_parse_new(raw, len, err, sizeof err);
  CHECK(m);
  if (m) {
    CHECK(streq(m->subject, "[#1042] Kargonuz yola çıktı Bcc: evil@example.com"));
    CHECK(streq(m->from.name, "Mağaza Destek") && streq(m->from.address, "destek@magaza.example"));
    CHECK(m->to_count == 1 && streq(m->to[0].name, "Ayşe Yılmaz"));
    CHECK(m->message_id && strstr(m->message_id, "@magaza.example"));
    CHECK(streq(m->in_reply_to, "CAF=reply-1@mail.example.com"));
    CHECK(m->references_count == 40 && streq(m->references[39], ids[39]));
    CHECK(m->date == 1795418100);
    CHECK(m->is_auto_reply == MAIL_AUTO_HEADER);
    CHECK(!strncmp(m->text, "Merhaba Ayşe Hanım,\nkargonuz yolda.\nxxxx", 40) && strlen(m->text) > 3000);
    CHECK(streq(m->html, "<p>Merhaba <b>Ayşe</b> Hanım</p><img data-attachment-index=\"0\">"));
    CHECK(m->attachments_count == 2);
    if (m->attachments_count == 2) {
      CHECK(streq(m->attachments[0].filename, "logo.png") && m->attachments[0].is_inline);
      CHECK(m->attachments[0].size == 8 && !memcmp(m->attachments[0].data, "\x89PNG\r\n\x1a\n", 8));
      CHECK(streq(m->attachments[1].filename, "kargo fişi ğüş.pdf") && !m->attachments[1].is_inline);
      CHECK(m->attachments[1].size == 12 && !memcmp(m->attachments[1].data, "%PDF-1.4\nabc", 12));
    }
    mail_message_free(m);
  }
  free(raw);

  /* the minimum: text only, generated id, no threading headers */
  struct mail_outgoing small = { 0 };
  small.from = (struct mail_address){ NULL, "destek@magaza.example" };
  small.to = to;
  small.to_count = 1;
  small.subject = "Plain";
  small.text = "ok";
  raw = mail_compose_new(&small, &len);
  CHECK(raw && lines_ok(raw, len) && !strstr(raw, "Auto-Submitted") && !strstr(raw, "In-Reply-To"));
  free(raw);
  small.to_count = 0;
  CHECK(mail_compose_new(&small, &len) == NULL);
  char *id = mail_message_id_new("a@b.example");
  CHECK(id && strstr(id, "@b.example") && !strchr(id, '<'));
  free(id);
  free(text);
}

int main(int argc, char **argv)
{
  if (argc > 1) {
    for (int i = 1; i < argc; i++) dump(argv[i]);
    return 0;
  }
  find_corpus();
  test_iso88599();
  test_cp1254();
  test_utf8();
  test_broken_8bit();
  test_nested();
  test_html_only();
  test_reply();
  test_auto();
  test_bounce();
  test_malformed();
  test_truncated();
  test_empty_ids();
  test_ticket_ref();
  test_strip_quoted();
  test_sanitize_edges();
  test_compose();
  CHECK_DONE();
}
