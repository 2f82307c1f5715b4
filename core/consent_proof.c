/* The consent proof document (issue 17): a contact's ledger as a signed, timestamped text a lawyer can read and print
 * (see consent_proof.h). */
#include "consent_proof.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "cli.h"
#include "config.h"
#include "consent.h"
#include "contacts.h"
#include "control.h"
#include "db.h"
#include "destek_util.h"
#include "jbuf.h"
#include "http.h"
#include "log.h"
#include "settings.h"
#include "util.h"

#define ALGORITHM "ECDSA-P256-SHA256"
#define SIG_BEGIN "-----BEGIN DESTEK SIGNATURE-----\n"
#define SIG_END "-----END DESTEK SIGNATURE-----"
#define DOC_MAX (4u << 20)

/* ------------------------------------------------------------------------------------------------ text */

/* Text into a jbuf (the helper library's growing buffer). */
static void add(struct jbuf *b, const char *s, size_t n) { jbuf_raw(b, s, n); }

static void addf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct jbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) abort();
  add(b, s, (size_t)n);
  free(s);
}

/* "  label value\n" with the label padded to width characters (UTF-8: Turkish letters are two bytes, one column). */
static void add_row(struct jbuf *b, int width, const char *label, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_row(struct jbuf *b, int width, const char *label, const char *fmt, ...)
{
  int cols = 0;
  for (const unsigned char *p = (const unsigned char *)label; *p; p++) if ((*p & 0xC0) != 0x80) cols++;
  addf(b, "  %s", label);
  for (int i = cols; i < width; i++) add(b, " ", 1);
  add(b, " ", 1);
  va_list ap;
  va_start(ap, fmt);
  char *v = NULL;
  int n = vasprintf(&v, fmt, ap);
  va_end(ap);
  if (n < 0) abort();
  add(b, v, (size_t)n);
  add(b, "\n", 1);
  free(v);
}

/* A text of the ledger, indented: every line of it starts with indent (a person's text may have several lines). */
static void add_indented(struct jbuf *b, const char *indent, const char *text)
{
  const char *p = text && *text ? text : "-";
  for (;;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n && p[n - 1] == '\r') n--;
    add(b, indent, strlen(indent));
    add(b, p, n);
    add(b, "\n", 1);
    if (!nl) break;
    p = nl + 1;
  }
}

/* "2026-12-04T20:45:47Z" -> "04.12.2026 23:45:47 (UTC+03:00)": Turkey time (UTC+3 all year since 2016). */
static void tr_time(const char *iso, char out[48])
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = iso && strlen(iso) == 20 ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
  if (!end || *end) { snprintf(out, 48, "%s", iso ? iso : "-"); return; }
  time_t t = timegm(&tm) + 3 * 3600;
  gmtime_r(&t, &tm);
  strftime(out, 48, "%d.%m.%Y %H:%M:%S (UTC+03:00)", &tm);
}

static const char *channel_name(const char *c, int en)
{
  if (!strcmp(c, "email")) return en ? "E-mail" : "E-posta";
  if (!strcmp(c, "sms")) return "SMS";
  if (!strcmp(c, "call")) return en ? "Phone call" : "Telefonla arama";
  if (!strcmp(c, "whatsapp")) return "WhatsApp";
  return c;
}

static const char *source_name(const char *s, int en)
{
  static const char *const t[][3] = {
    { "web_form", "Web formu", "Web form" },
    { "checkout", "Ödeme sayfası (sipariş sırasında)", "Checkout (while ordering)" },
    { "call_centre", "Çağrı merkezi", "Call centre" },
    { "import", "Mevcut listeden içe aktarma", "Import of an existing list" },
    { "iys", "İYS (İleti Yönetim Sistemi)", "İYS (the national consent registry)" },
    { "unsubscribe_link", "Abonelikten çıkma bağlantısı (tek tık)", "Unsubscribe link (one click)" },
    { "reply", "Kişinin yanıtı", "The person's reply" },
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (!strcmp(s, t[i][0])) return t[i][en ? 2 : 1];
  return s;
}

/* recorded_by ("user:<id>", "plugin:<name>", "unsubscribe_link") in words. */
static void who_text(struct db *db, const char *by, int en, char *out, size_t outlen)
{
  if (!strncmp(by, "user:", 5)) {
    int64_t uid = strtoll(by + 5, NULL, 10);
    char *name = db_text_new(db, "SELECT name || ' <' || email || '>' FROM core_users WHERE id = ?1", "i", uid);
    snprintf(out, outlen, en ? "user #%lld %s" : "kullanıcı #%lld %s", (long long)uid, name ? name : "");
    free(name);
  } else if (!strncmp(by, "plugin:", 7)) {
    snprintf(out, outlen, en ? "the system (module %s)" : "sistem (%s modülü)", by + 7);
  } else if (!strcmp(by, "unsubscribe_link")) {
    snprintf(out, outlen, "%s", en ? "the person, with the unsubscribe link of a message"
                                   : "kişinin kendisi, bir iletideki abonelikten çıkma bağlantısıyla");
  } else {
    snprintf(out, outlen, "%s", by);
  }
}

static void hex(const unsigned char *in, size_t n, char *out)
{
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) { out[2 * i] = d[in[i] >> 4]; out[2 * i + 1] = d[in[i] & 15]; }
  out[2 * n] = 0;
}

/* ------------------------------------------------------------------------------------------------ keys */

static int rng_seed(mbedtls_entropy_context *e, mbedtls_ctr_drbg_context *d)
{
  mbedtls_entropy_init(e);
  mbedtls_ctr_drbg_init(d);
  static const char pers[] = "destek consent proof";
  return mbedtls_ctr_drbg_seed(d, mbedtls_entropy_func, e, (const unsigned char *)pers, sizeof pers - 1);
}

/* "SHA256:<hex of the public key's DER>" of a parsed key. 0 or -1. */
static int key_id_of(mbedtls_pk_context *pk, char out[80])
{
  unsigned char der[256];
  int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof der);   /* written at the end of der */
  if (n <= 0) return -1;
  unsigned char sum[32];
  mbedtls_sha256_ret(der + sizeof der - n, (size_t)n, sum, 0);
  char h[65];
  hex(sum, 32, h);
  snprintf(out, 80, "SHA256:%s", h);
  return 0;
}

/* The signing key (made and stored the first time, in the call's transaction): its private PEM and key id, or -1. */
static int key_current(struct destek_req *call, char **private_pem, char key_id[80])
{
  struct db *w = http_tx(call);
  if (!w) return -1;
  sqlite3_stmt *st = db_prepare(w, "SELECT private_pem, key_id FROM core_proof_keys ORDER BY id DESC LIMIT 1");
  if (!st) return -1;
  int found = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *private_pem = util_strdup((const char *)sqlite3_column_text(st, 0));
    snprintf(key_id, 80, "%s", (const char *)sqlite3_column_text(st, 1));
    found = 1;
  }
  db_done(st);
  if (found) return 0;
  mbedtls_entropy_context e;
  mbedtls_ctr_drbg_context d;
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  unsigned char priv[1200], pub[600];
  int rc = rng_seed(&e, &d);
  if (!rc) rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (!rc) rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, &d);
  if (!rc) rc = mbedtls_pk_write_key_pem(&pk, priv, sizeof priv);
  if (!rc) rc = mbedtls_pk_write_pubkey_pem(&pk, pub, sizeof pub);
  if (!rc) rc = key_id_of(&pk, key_id);
  mbedtls_pk_free(&pk);
  mbedtls_ctr_drbg_free(&d);
  mbedtls_entropy_free(&e);
  if (rc) { log_error("consent", "the proof signing key could not be made (mbedTLS %d)", rc); return -1; }
  char now[21];
  util_iso_time(time(NULL), now);
  if (db_exec(w, "INSERT INTO core_proof_keys(key_id, algorithm, public_pem, private_pem, created_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5)", "ttttt", key_id, ALGORITHM, (const char *)pub, (const char *)priv,
              now) != SQLITE_OK)
    return -1;
  log_info("consent", "made the key that signs consent proofs: %s", key_id);
  *private_pem = util_strdup((const char *)priv);
  memset(priv, 0, sizeof priv);
  return 0;
}

/* Signs text[0..n) (SHA-256, ECDSA P-256): the signature's base64 (DER) into sig_b64, 0 or -1. */
static int sign(const char *private_pem, const char *text, size_t n, char *sig_b64, size_t cap)
{
  mbedtls_entropy_context e;
  mbedtls_ctr_drbg_context d;
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  unsigned char sum[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  size_t sig_len = 0;
  mbedtls_sha256_ret((const unsigned char *)text, n, sum, 0);
  int rc = rng_seed(&e, &d);
  if (!rc) rc = mbedtls_pk_parse_key(&pk, (const unsigned char *)private_pem, strlen(private_pem) + 1, NULL, 0);
  if (!rc) rc = mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, sum, 0, sig, &sig_len, mbedtls_ctr_drbg_random, &d);
  mbedtls_pk_free(&pk);
  mbedtls_ctr_drbg_free(&d);
  mbedtls_entropy_free(&e);
  if (rc || util_b64_len(sig_len) + 1 > cap) return -1;
  sig_b64[util_b64_encode(sig, sig_len, sig_b64)] = 0;
  return 0;
}

/* ------------------------------------------------------------------------------------------------ the document */

static int64_t contact_find(struct db *db, const char *what)
{
  char *end;
  long long id = strtoll(what, &end, 10);
  if (*what && !*end && id > 0)
    return db_int(db, 0, "SELECT id FROM core_contacts WHERE id = ?1", "i", (int64_t)id);
  char norm[256];
  const char *kind = strchr(what, '@') ? "email" : "phone";
  if (contacts_normalise(kind, what, norm, sizeof norm) != 0) return 0;
  int64_t c = db_int(db, 0, "SELECT contact_id FROM core_contact_identities WHERE kind = ?1 AND value = ?2", "tt", kind,
                     norm);
  if (!c) c = db_int(db, 0, "SELECT id FROM core_contacts WHERE email = ?1 OR phone = ?1 ORDER BY id LIMIT 1", "t", norm);
  if (!c) c = db_int(db, 0, "SELECT contact_id FROM core_consent WHERE address = ?1 ORDER BY id LIMIT 1", "t", norm);
  return c;
}

struct latest { int set; char status[8], at[24], source[32]; int64_t id; };

/* The document of contact_id (see consent_proof.h), or NULL with the error set up on call. */
char *consent_proof_new(struct destek_req *call, int64_t contact_id, int en)
{
  struct db *db = http_tx(call);
  if (!db) return NULL;
  sqlite3_stmt *st = db_prepare(db, "SELECT name, email, phone, lang, merged_into, erased_at, created_at"
                                    " FROM core_contacts WHERE id = ?1");
  if (!st) return http_error(call, 500, "internal", "the contact could not be read"), NULL;
  db_bind(st, "i", contact_id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    db_done(st);
    return http_error(call, 404, "not_found", "no such contact"), NULL;
  }
  char *name = util_strdup((const char *)(sqlite3_column_text(st, 0) ? sqlite3_column_text(st, 0) : (const unsigned char *)""));
  char *email = sqlite3_column_text(st, 1) ? util_strdup((const char *)sqlite3_column_text(st, 1)) : NULL;
  char *phone = sqlite3_column_text(st, 2) ? util_strdup((const char *)sqlite3_column_text(st, 2)) : NULL;
  int64_t merged_into = sqlite3_column_int64(st, 4);
  char *erased = sqlite3_column_text(st, 5) ? util_strdup((const char *)sqlite3_column_text(st, 5)) : NULL;
  db_done(st);
  char *private_pem = NULL, key_id[80];
  if (key_current(call, &private_pem, key_id) != 0) {
    free(name); free(email); free(phone); free(erased);
    return http_error(call, 500, "internal", "the signing key is not available"), NULL;
  }
  time_t now = time(NULL);
  char now_iso[21], now_tr[48], doc_id[48], t1[48], t2[48], who[400];
  util_iso_time(now, now_iso);
  tr_time(now_iso, now_tr);
  util_token(doc_id, 12);
  char *shop = settings_get_new("shop.name");
  const char *base = http_base_url();

  struct jbuf b;
  jbuf_init(&b, 8192);
  addf(&b, "%s\n", en ? "CONSENT RECORDS FOR COMMERCIAL ELECTRONIC MESSAGES: PROOF DOCUMENT"
                      : "TİCARİ ELEKTRONİK İLETİ İZİN KAYITLARI: KANIT BELGESİ");
  addf(&b, "%s\n\n", en ? "(Law No. 6563 on the Regulation of Electronic Commerce; the Regulation on Commercial"
                          " Communication and Commercial Electronic Messages)"
                        : "(6563 sayılı Elektronik Ticaretin Düzenlenmesi Hakkında Kanun; Ticari İletişim ve Ticari"
                          " Elektronik İletiler Hakkında Yönetmelik)");
  addf(&b, "%s: %s%s%s%s\n", en ? "Issued by" : "Düzenleyen", shop && *shop ? shop : (en ? "(shop name not set)" : "(mağaza adı girilmemiş)"),
       base && *base ? " (" : "", base && *base ? base : "", base && *base ? ")" : "");
  addf(&b, "%s: %s\n", en ? "Document number" : "Belge numarası", doc_id);
  addf(&b, "%s: %s\n", en ? "Issued and signed at (Turkey time)" : "Düzenlenme ve imzalanma zamanı (Türkiye saati)", now_tr);
  addf(&b, "%s: #%lld\n", en ? "Person (contact number)" : "Kişi (kişi numarası)", (long long)contact_id);
  if (erased) {
    tr_time(erased, t1);
    addf(&b, "  %s %s.\n", en ? "This person's personal data were erased on request under the KVKK (Law No. 6698) on"
                              : "Bu kişinin kişisel verileri KVKK (6698 sayılı Kanun) kapsamındaki talep üzerine silindi:", t1);
    addf(&b, "  %s\n", en ? "Name, addresses and IP addresses are no longer held; what remains below is the"
                            " non-identifying proof that each consent (ONAY) or refusal (RET) existed."
                          : "Ad, adresler ve IP adresleri artık tutulmuyor; aşağıda kalanlar her onayın (ONAY) ve"
                            " reddin (RET) var olduğunun kişiyi tanımlamayan kanıtıdır.");
  } else {
    addf(&b, "  %s: %s\n", en ? "Name" : "Ad", *name ? name : "-");
    addf(&b, "  %s: %s\n", en ? "E-mail" : "E-posta", email && *email ? email : "-");
    addf(&b, "  %s: %s\n", en ? "Phone" : "Telefon", phone && *phone ? phone : "-");
  }
  if (merged_into)
    addf(&b, "  %s #%lld.\n", en ? "This contact was merged into contact" : "Bu kişi şu kişiyle birleştirildi:",
         (long long)merged_into);
  int merged = db_int(db, 0, "SELECT count(*) FROM core_contacts WHERE merged_into = ?1", "i", contact_id);
  if (merged)
    addf(&b, "  %s\n", en ? "Records of contacts merged into this one are included (they are the same person)."
                          : "Bu kişiyle birleştirilen kişi kayıtlarının izinleri de dahildir (aynı kişidir).");

  /* the records, oldest first, and the latest of each channel */
  static const char *const CH[] = { "email", "sms", "call", "whatsapp" };
  struct latest last[4];
  memset(last, 0, sizeof last);
  struct jbuf recs;
  jbuf_init(&recs, 4096);
  st = db_prepare(db, "SELECT id, contact_id, channel, status, source, text_shown, address, ip, recorded_by, at,"
                      " recorded_at, erased_at FROM core_consent WHERE contact_id IN"
                      " (SELECT id FROM core_contacts WHERE id = ?1 OR merged_into = ?1) ORDER BY at, id");
  int n = 0;
  if (st) {
    db_bind(st, "i", contact_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      n++;
      int64_t rid = sqlite3_column_int64(st, 0);
      const char *channel = (const char *)sqlite3_column_text(st, 2), *status = (const char *)sqlite3_column_text(st, 3),
                 *source = (const char *)sqlite3_column_text(st, 4), *text = (const char *)sqlite3_column_text(st, 5),
                 *address = (const char *)sqlite3_column_text(st, 6), *ip = (const char *)sqlite3_column_text(st, 7),
                 *by = (const char *)sqlite3_column_text(st, 8), *at = (const char *)sqlite3_column_text(st, 9),
                 *rec_at = (const char *)sqlite3_column_text(st, 10), *er = (const char *)sqlite3_column_text(st, 11);
      int is_ret = !strcmp(status, "RET");
      for (int c = 0; c < 4; c++) {
        if (strcmp(channel, CH[c])) continue;
        int cmp = last[c].set ? strcmp(at, last[c].at) : 1;
        /* the latest wins; a RET wins a tie; then the later record */
        if (!last[c].set || cmp > 0 || (cmp == 0 && (is_ret || strcmp(last[c].status, "RET")))) {
          last[c].set = 1;
          snprintf(last[c].status, sizeof last[c].status, "%s", status);
          snprintf(last[c].at, sizeof last[c].at, "%s", at);
          snprintf(last[c].source, sizeof last[c].source, "%s", source);
          last[c].id = rid;
        }
      }
      tr_time(at, t1);
      tr_time(rec_at, t2);
      addf(&recs, "\n%s %d (%s #%lld)\n", en ? "Record" : "Kayıt", n, en ? "ledger no." : "defter no.", (long long)rid);
      add_row(&recs, 28, en ? "Channel:" : "Kanal:", "%s", channel_name(channel, en));
      add_row(&recs, 28, en ? "Decision:" : "Karar:", "%s", is_ret ? (en ? "RET (refused or withdrawn)" : "RET (ret / onayın geri alınması)")
                  : (en ? "ONAY (consent given)" : "ONAY (izin verildi)"));
      add_row(&recs, 28, en ? "Given at (Turkey time):" : "Verildiği zaman (TR saati):", "%s", t1);
      add_row(&recs, 28, en ? "Source:" : "Kaynak:", "%s", source_name(source, en));
      if (er) {
        tr_time(er, t2);
        add_row(&recs, 28, en ? "Address, IP:" : "Adres, IP:", "%s %s",
             en ? "erased under the KVKK on" : "KVKK kapsamında silindi:", t2);
      } else {
        add_row(&recs, 28, en ? "Address:" : "Adres:", "%s", address && *address ? address : "-");
        add_row(&recs, 28, en ? "IP address:" : "IP adresi:", "%s", ip && *ip ? ip : (en ? "- (not over the network)" : "- (ağ üzerinden gelmedi)"));
      }
      who_text(db, by, en, who, sizeof who);
      add_row(&recs, 28, en ? "Recorded by:" : "Kaydeden:", "%s", who);
      tr_time(rec_at, t2);
      add_row(&recs, 28, en ? "Written to the ledger at:" : "Deftere yazıldığı zaman:", "%s", t2);
      if (sqlite3_column_int64(st, 1) != contact_id)
        add_row(&recs, 28, en ? "Of the merged contact:" : "Birleştirilen kişiden:", "#%lld", (long long)sqlite3_column_int64(st, 1));
      addf(&recs, "  %s\n", en ? "Text shown to the person:" : "Kişiye gösterilen metin:");
      add_indented(&recs, "    | ", text && *text ? text : (en ? "- (none: a RET needs no text)" : "- (yok: RET için metin gerekmez)"));
    }
    db_done(st);
  }
  addf(&b, "\n1. %s\n", en ? "CURRENT STATE (derived from the records below)" : "GÜNCEL DURUM (aşağıdaki kayıtlardan türetilir)");
  for (int c = 0; c < 4; c++) {
    if (!last[c].set) {
      add_row(&b, 16, channel_name(CH[c], en), "%s",
           en ? "no record: commercial messages may NOT be sent" : "kayıt yok: ticari ileti GÖNDERİLEMEZ");
      continue;
    }
    tr_time(last[c].at, t1);
    int on = !erased && !strcmp(last[c].status, "ONAY");
    add_row(&b, 16, channel_name(CH[c], en), "%s, %s, %s: %s", last[c].status, t1, source_name(last[c].source, en),
         on ? (en ? "commercial messages may be sent" : "ticari ileti gönderilebilir")
            : erased ? (en ? "erased person: commercial messages may NOT be sent" : "silinmiş kişi: ticari ileti GÖNDERİLEMEZ")
                     : (en ? "commercial messages may NOT be sent" : "ticari ileti GÖNDERİLEMEZ"));
  }
  addf(&b, "  %s\n", en ? "Rule: the latest record of a channel decides; a RET always overrides an earlier ONAY (and wins"
                          " a tie). Records are only ever added: none is changed or deleted, except that a KVKK erasure"
                          " blanks the address and IP."
                        : "Kural: bir kanalın en son kaydı belirleyicidir; RET her zaman daha önceki ONAY'ı geçersiz kılar"
                          " (eşit zamanda da RET geçerlidir). Kayıtlara yalnızca ekleme yapılır: hiçbiri değiştirilmez ya"
                          " da silinmez; KVKK silmesi yalnızca adresi ve IP'yi boşaltır.");
  addf(&b, "\n2. %s (%d)\n", en ? "RECORDS, OLDEST FIRST" : "KAYITLAR, ESKİDEN YENİYE", n);
  if (!n) addf(&b, "\n  %s\n", en ? "There is no consent record for this person." : "Bu kişi için izin kaydı yok.");
  else add(&b, recs.data, recs.len);
  jbuf_free(&recs);
  addf(&b, "\n3. %s\n", en ? "ABOUT THE SIGNATURE" : "İMZA HAKKINDA");
  add_indented(&b, "  ", en
    ? "This document was produced by the Destek help desk from its consent ledger and signed electronically by the\n"
      "server at the time above. The signature covers every character from the first line of this document up to\n"
      "and including the line before \"-----BEGIN DESTEK SIGNATURE-----\", the signing time and key number below\n"
      "included. If a single character of that part is changed, added or removed, the signature no longer matches.\n"
      "The signature is ECDSA on the P-256 curve over the SHA-256 digest of that part. The server made its key pair\n"
      "once and keeps the private key; the public key is given by the server (GET /api/v1/consent/proof-keys, or\n"
      "`destek consent key`) and its SHA-256 fingerprint is the key number below. To check this document:\n"
      "`destek consent verify FILE` (on the server), or `destek consent verify FILE --key PUBLIC.pem` anywhere.\n"
      "The time is the server's own clock; it is not a qualified time stamp (5070 sayılı Kanun) of a time-stamp\n"
      "authority."
    : "Bu belge Destek yardım masası tarafından izin defterinden üretilmiş ve yukarıdaki zamanda sunucu tarafından\n"
      "elektronik olarak imzalanmıştır. İmza, bu belgenin ilk satırından \"-----BEGIN DESTEK SIGNATURE-----\"\n"
      "satırından önceki satır dahil olmak üzere (aşağıdaki imza zamanı ve anahtar numarası da dahil) her karakteri\n"
      "kapsar. Bu bölümde tek bir karakter değiştirilir, eklenir ya da silinirse imza artık tutmaz.\n"
      "İmza, bu bölümün SHA-256 özeti üzerinde P-256 eğrisiyle ECDSA imzasıdır. Sunucu anahtar çiftini bir kez\n"
      "üretmiş ve gizli anahtarı saklamaktadır; açık anahtar sunucudan alınabilir (GET /api/v1/consent/proof-keys ya\n"
      "da `destek consent key`) ve SHA-256 parmak izi aşağıdaki anahtar numarasıdır. Belgeyi doğrulamak için:\n"
      "`destek consent verify DOSYA` (sunucuda) ya da açık anahtarla her yerde `destek consent verify DOSYA --key\n"
      "ACIK_ANAHTAR.pem`. Zaman sunucunun kendi saatidir; bir zaman damgası sağlayıcısının nitelikli zaman damgası\n"
      "(5070 sayılı Kanun) değildir.");
  addf(&b, "\n  Document-Id: %s\n  Contact-Id: %lld\n  Signed-At: %s\n  Key-Id: %s\n  Algorithm: %s\n", doc_id,
       (long long)contact_id, now_iso, key_id, ALGORITHM);
  char sig[200];
  int rc = sign(private_pem, b.data, b.len, sig, sizeof sig);
  free(private_pem);
  unsigned char sum[32];
  char sum_hex[65];
  mbedtls_sha256_ret((const unsigned char *)b.data, b.len, sum, 0);
  hex(sum, 32, sum_hex);
  addf(&b, SIG_BEGIN "Algorithm: %s\nKey-Id: %s\nSHA-256: %s\nSignature: %s\n" SIG_END "\n", ALGORITHM, key_id, sum_hex, sig);
  free(name); free(email); free(phone); free(erased); free(shop);
  if (rc != 0) {
    jbuf_free(&b);
    return http_error(call, 500, "internal", "the document could not be signed"), NULL;
  }
  return jbuf_take(&b, NULL);
}

/* ------------------------------------------------------------------------------------------------ verifying */

/* The value of "name: value" on a line of text[0..n) (the first one), into out; 0 when absent. */
static int field(const char *text, size_t n, const char *name, char *out, size_t outlen)
{
  size_t nl = strlen(name);
  for (const char *p = text; p < text + n;) {
    const char *e = memchr(p, '\n', (size_t)(text + n - p));
    if (!e) e = text + n;
    const char *q = p;
    while (q < e && *q == ' ') q++;
    if ((size_t)(e - q) > nl + 1 && !memcmp(q, name, nl) && q[nl] == ':') {
      q += nl + 1;
      while (q < e && *q == ' ') q++;
      size_t k = (size_t)(e - q);
      while (k && (q[k - 1] == '\r' || q[k - 1] == ' ')) k--;
      if (k >= outlen) return 0;
      memcpy(out, q, k);
      out[k] = 0;
      return 1;
    }
    p = e + 1;
  }
  return 0;
}

int consent_proof_check(const char *doc_in, size_t len, const char *public_pem, struct db *db, struct proof_check *out)
{
  memset(out, 0, sizeof *out);
  /* line ends as written: a copy that went through a Windows editor or mail program (CRLF) still checks */
  char *doc = malloc(len + 1);
  if (!doc) abort();
  size_t n = 0;
  for (size_t i = 0; i < len; i++) if (!(doc_in[i] == '\r' && i + 1 < len && doc_in[i + 1] == '\n')) doc[n++] = doc_in[i];
  doc[n] = 0;
  int rc = -1;
  const char *sb = NULL;
  for (const char *p = doc; (p = strstr(p, "\n" SIG_BEGIN)); p++) sb = p;
  if (!sb) { snprintf(out->reason, sizeof out->reason, "no signature block (-----BEGIN DESTEK SIGNATURE-----)"); goto done; }
  size_t body = (size_t)(sb - doc) + 1;
  const char *blk = sb + 1 + strlen(SIG_BEGIN);
  const char *end = strstr(blk, SIG_END);
  if (!end) { snprintf(out->reason, sizeof out->reason, "the signature block is not closed"); goto done; }
  size_t blen = (size_t)(end - blk);
  char alg[64], kid[80], kid_body[80], sig_b64[200];
  if (!field(blk, blen, "Algorithm", alg, sizeof alg) || strcmp(alg, ALGORITHM)) {
    snprintf(out->reason, sizeof out->reason, "unknown signature algorithm");
    goto done;
  }
  if (!field(blk, blen, "Key-Id", kid, sizeof kid) || !field(blk, blen, "Signature", sig_b64, sizeof sig_b64)) {
    snprintf(out->reason, sizeof out->reason, "the signature block lacks Key-Id or Signature");
    goto done;
  }
  snprintf(out->key_id, sizeof out->key_id, "%s", kid);
  /* the machine lines are the last of the signed part: read from the last "Document-Id" on (a person's text, quoted
   * with "| " before each line, cannot stand in for them) */
  const char *ml = NULL;
  for (const char *p = doc; (p = strstr(p, "\n  Document-Id: ")) && p < doc + body; p++) ml = p;
  if (!ml) { snprintf(out->reason, sizeof out->reason, "the signed text lacks its Document-Id line"); goto done; }
  const char *mach = ml;
  size_t mlen = (size_t)(doc + body - ml);
  if (!field(mach, mlen, "Key-Id", kid_body, sizeof kid_body) || strcmp(kid, kid_body)) {
    snprintf(out->reason, sizeof out->reason, "the key named in the signed text is not the signature's");
    goto done;
  }
  field(mach, mlen, "Signed-At", out->signed_at, sizeof out->signed_at);
  field(mach, mlen, "Document-Id", out->document_id, sizeof out->document_id);
  char cid[32] = "";
  if (field(mach, mlen, "Contact-Id", cid, sizeof cid)) out->contact_id = strtoll(cid, NULL, 10);
  char *pem = public_pem ? util_strdup(public_pem)
            : db ? db_text_new(db, "SELECT public_pem FROM core_proof_keys WHERE key_id = ?1", "t", kid) : NULL;
  if (!pem) { snprintf(out->reason, sizeof out->reason, "the key %s is not this server's", kid); goto done; }
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], sum[32];
  char pk_id[80] = "";
  long sl = util_b64_decode(sig_b64, strlen(sig_b64), sig, sizeof sig);
  int prc = mbedtls_pk_parse_public_key(&pk, (const unsigned char *)pem, strlen(pem) + 1);
  free(pem);
  if (prc || key_id_of(&pk, pk_id) != 0) snprintf(out->reason, sizeof out->reason, "the public key could not be read");
  else if (strcmp(pk_id, kid)) snprintf(out->reason, sizeof out->reason, "the public key given is not the key %s", kid);
  else if (sl <= 0) snprintf(out->reason, sizeof out->reason, "the signature is not base64");
  else {
    mbedtls_sha256_ret((const unsigned char *)doc, body, sum, 0);
    if (mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, sum, 0, sig, (size_t)sl) != 0)
      snprintf(out->reason, sizeof out->reason, "the signature does not match: the document was changed after it was"
                                                " signed (or was not signed by this key)");
    else { out->valid = 1; rc = 0; }
  }
  mbedtls_pk_free(&pk);
done:
  free(doc);
  return rc;
}

static cJSON *check_json(const struct proof_check *c)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "valid", c->valid);
  if (!c->valid) cJSON_AddStringToObject(o, "reason", c->reason);
  if (*c->key_id) cJSON_AddStringToObject(o, "key_id", c->key_id);
  if (*c->signed_at) cJSON_AddStringToObject(o, "signed_at", c->signed_at);
  if (*c->document_id) cJSON_AddStringToObject(o, "document_id", c->document_id);
  if (c->contact_id) cJSON_AddNumberToObject(o, "contact_id", (double)c->contact_id);
  return o;
}

/* ------------------------------------------------------------------------------------------------ routes */

static int lang_en(struct destek_req *r)
{
  char lang[8] = "";
  http_query_get(r, "lang", lang, sizeof lang);
  return !strcmp(lang, "en");
}

/* GET /api/v1/contacts/{id}/consent/proof?lang=tr|en: the signed document (text/plain, UTF-8, a download). */
static int proof_get(struct destek_req *r)
{
  int64_t id = http_param_int(r, "id");
  char *doc = consent_proof_new(r, id, lang_en(r));
  if (!doc) return r->status;
  char disp[120];
  snprintf(disp, sizeof disp, "attachment; filename=\"izin-kaniti-%lld.txt\"", (long long)id);
  http_add_header(r, "Content-Disposition", disp);
  http_add_header(r, "Cache-Control", "no-store");
  return http_reply_body(r, 200, "text/plain; charset=utf-8", doc, strlen(doc));
}

/* GET /api/v1/consent/proof-keys: {keys: [{key_id, algorithm, public_key, created_at}]} (public: anyone may check). */
static int keys_get(struct destek_req *r)
{
  struct db *db = http_db(r);
  cJSON *o = cJSON_CreateObject(), *keys = cJSON_AddArrayToObject(o, "keys");
  sqlite3_stmt *st = db ? db_prepare(db, "SELECT key_id, algorithm, public_pem, created_at FROM core_proof_keys ORDER BY id") : NULL;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "key_id", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(k, "algorithm", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(k, "public_key", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(k, "created_at", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToArray(keys, k);
  }
  if (st) db_done(st);
  return http_reply_json(r, 200, o);
}

/* POST /api/v1/consent/proof-verify (the document as the body): {valid, reason?, key_id, signed_at, document_id,
 * contact_id}; 200 whether or not it is valid. */
static int verify_post(struct destek_req *r)
{
  const char *data;
  size_t len;
  int rc = http_body_raw(r, &data, &len);
  if (rc) return rc;
  if (!len) return http_field_error(r, "missing_field", "body", "the body is the proof document");
  struct proof_check c;
  consent_proof_check(data, len, NULL, http_db(r), &c);
  return http_reply_json(r, 200, check_json(&c));
}

static const struct destek_route routes[] = {
  { "GET",  "/api/v1/contacts/{id}/consent/proof", proof_get,   DESTEK_ADMIN,  "id:int", 0 },
  { "GET",  "/api/v1/consent/proof-keys",          keys_get,    DESTEK_PUBLIC, NULL, 0 },
  { "POST", "/api/v1/consent/proof-verify",        verify_post, DESTEK_ADMIN,  NULL, DOC_MAX },
  { 0 }
};

/* ------------------------------------------------------------------------------------------------ the CLI */

/* The control command "consent" {action: proof|key|verify, contact?, lang?, document?}: the message is the text. */
static int control_consent(const cJSON *args, char **message)
{
  const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
  struct destek_req c;
  call_begin(&c, "core");
  int code = 0;
  if (action && !strcmp(action, "proof")) {
    const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "contact"));
    const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "lang"));
    struct db *db = http_tx(&c);
    int64_t id = db && who ? contact_find(db, who) : 0;
    char *doc = id ? consent_proof_new(&c, id, lang && !strcmp(lang, "en")) : NULL;
    if (!id) { if (asprintf(message, "no contact %s (a contact number, an e-mail address or a phone number)", who ? who : "") < 0) *message = NULL; code = 1; }
    else if (!doc) { *message = util_strdup("the proof could not be made (see the log)"); code = 1; }
    else {
      size_t k = strlen(doc);
      if (k && doc[k - 1] == '\n') doc[k - 1] = 0;   /* the CLI prints a line end after the message */
      *message = doc;
    }
  } else if (action && !strcmp(action, "key")) {
    char *priv = NULL, kid[80];
    if (key_current(&c, &priv, kid) != 0) { *message = util_strdup("the signing key is not available"); code = 1; }
    else {
      free(priv);
      char *pem = db_text_new(http_tx(&c), "SELECT public_pem FROM core_proof_keys WHERE key_id = ?1", "t", kid);
      if (asprintf(message, "# Key-Id: %s (%s)\n%s", kid, ALGORITHM, pem ? pem : "") < 0) *message = NULL;
      size_t k = *message ? strlen(*message) : 0;
      if (k && (*message)[k - 1] == '\n') (*message)[k - 1] = 0;
      free(pem);
    }
  } else if (action && !strcmp(action, "verify")) {
    const char *doc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "document"));
    struct proof_check pc;
    consent_proof_check(doc ? doc : "", doc ? strlen(doc) : 0, NULL, http_db(&c), &pc);
    code = pc.valid ? 0 : 1;
    if (pc.valid ? asprintf(message, "GEÇERLİ / VALID: signed at %s by key %s (document %s, contact %lld)", pc.signed_at,
                            pc.key_id, pc.document_id, (long long)pc.contact_id) < 0
                 : asprintf(message, "GEÇERSİZ / NOT VALID: %s", pc.reason) < 0)
      *message = NULL;
  } else {
    *message = util_strdup("unknown consent action");
    code = 2;
  }
  call_end(&c, code == 0);
  return code;
}

static char *read_file_new(const char *path, size_t *len)
{
  FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 65536, n = 0;
  char *p = malloc(cap);
  if (!p) abort();
  size_t k;
  while ((k = fread(p + n, 1, cap - n - 1, f)) > 0) {
    n += k;
    if (n + 1 >= cap) {
      if (cap >= DOC_MAX * 2) break;
      cap *= 2;
      p = realloc(p, cap);
      if (!p) abort();
    }
  }
  if (f != stdin) fclose(f);
  p[n] = 0;
  *len = n;
  return p;
}

static const char HELP[] =
  "usage: destek consent proof CONTACT [--lang tr|en] [--data DIR]\n"
  "       destek consent key [--data DIR]\n"
  "       destek consent verify FILE [--key PUBLIC.pem] [--data DIR]\n"
  "\n"
  "  proof   prints the contact's consent ledger as a signed, timestamped document (Turkish; --lang en: English).\n"
  "          CONTACT is a contact number, an e-mail address or a phone number.\n"
  "  key     prints the public key that signs the documents (PEM) and its key id.\n"
  "  verify  checks a document's signature: against this server's keys, or against PUBLIC.pem (no server or data\n"
  "          directory needed). Exit status 0 when it is valid, 1 when it is not. FILE - reads standard input.\n";

int consent_cli(struct config *cfg, int argc, char **argv)
{
  const char *action = NULL, *arg = NULL, *lang = "tr", *key = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(HELP, stdout); return 0; }
    if (!strcmp(argv[i], "--data") && i + 1 < argc) cfg->data = argv[++i];
    else if (!strncmp(argv[i], "--data=", 7)) cfg->data = argv[i] + 7;
    else if (!strcmp(argv[i], "--lang") && i + 1 < argc) lang = argv[++i];
    else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
    else if (argv[i][0] == '-' && argv[i][1]) { fprintf(stderr, "destek consent: unknown option %s\n%s", argv[i], HELP); return 2; }
    else if (!action) action = argv[i];
    else if (!arg) arg = argv[i];
    else { fprintf(stderr, "destek consent: too many arguments\n%s", HELP); return 2; }
  }
  if (!action || (strcmp(action, "key") && !arg) || (strcmp(action, "proof") && strcmp(action, "key") && strcmp(action, "verify")) ||
      (strcmp(lang, "tr") && strcmp(lang, "en"))) {
    fputs(HELP, stderr);
    return 2;
  }
  cJSON *args = cJSON_CreateObject();
  cJSON_AddStringToObject(args, "action", action);
  if (!strcmp(action, "proof")) { cJSON_AddStringToObject(args, "contact", arg); cJSON_AddStringToObject(args, "lang", lang); }
  if (!strcmp(action, "verify")) {
    size_t len;
    char *doc = read_file_new(arg, &len);
    if (!doc) { fprintf(stderr, "destek consent verify: cannot read %s\n", arg); cJSON_Delete(args); return 1; }
    if (key) {   /* offline, against the public key given */
      size_t kl;
      char *pem = read_file_new(key, &kl);
      if (!pem) { fprintf(stderr, "destek consent verify: cannot read %s\n", key); free(doc); cJSON_Delete(args); return 1; }
      struct proof_check pc;
      consent_proof_check(doc, len, pem, NULL, &pc);
      free(pem); free(doc);
      cJSON_Delete(args);
      if (pc.valid) printf("GEÇERLİ / VALID: signed at %s by key %s (document %s, contact %lld)\n", pc.signed_at, pc.key_id,
                           pc.document_id, (long long)pc.contact_id);
      else printf("GEÇERSİZ / NOT VALID: %s\n", pc.reason);
      return pc.valid ? 0 : 1;
    }
    cJSON_AddStringToObject(args, "document", doc);
    free(doc);
  }
  int code = cli_run_writer(cfg, "consent", args);
  cJSON_Delete(args);
  return code;
}

int consent_proof_init(void)
{
  control_register("consent", control_consent);
  return http_routes_add("core", routes);
}
