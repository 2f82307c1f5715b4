/* destek_mail.h — part of the helper library (libdestek_helpers.a) that the binary and module .so files link; a
 * module that uses it links GMime 3 too (pkg-config gmime-3.0). A module that only needs to make HTML safe or
 * readable uses the host's html_sanitize_new / html_to_text_new instead (include/destek.h).
 *
 * mail: inbound MIME parsing (GMime 3 underneath), HTML sanitising, reply helpers and outbound MIME composition.
 * No GMime or GLib type appears here: callers see plain C strings (UTF-8, NUL-terminated) and byte buffers.
 * Sending and fetching (SMTP, IMAP) are not here: the ticketing module does them through libcurl.
 * Every function is safe to call from any thread; GMime is initialised once, on first use.
 * Everything returned as `*_new` is owned by the caller and released with free() (or mail_message_free). */
#ifndef DESTEK_MAIL_PUBLIC_H
#define DESTEK_MAIL_PUBLIC_H
#include <stddef.h>
#include <time.h>

struct mail_address {
  char *name;     /* display name, decoded to UTF-8; NULL when the header had none */
  char *address;  /* "local@domain"; NULL when the header was absent or unparsable */
};

struct mail_attachment {
  char *filename;        /* UTF-8, RFC 2231/2047 decoded, path separators replaced by '_'; "attachment-N[.ext]" if none */
  char *content_type;    /* lower-case "type/subtype" */
  char *content_id;      /* without the angle brackets, or NULL */
  int is_inline;         /* 1: Content-Disposition inline with a Content-ID, or referenced by a cid: URL */
  unsigned char *data;   /* decoded bytes (base64/QP undone); a message/rfc822 part is kept as its raw text */
  size_t size;
};

/* Automatic-mail signals, strongest wins (is_auto_reply):
 *   MAIL_AUTO_HEADER   — the headers say so: Auto-Submitted other than "no", X-Autoreply, X-Autorespond,
 *                        Precedence bulk/junk/list, Return-Path <> (null sender), or the message is a bounce.
 *                        Never open a ticket from it and never answer it.
 *   MAIL_AUTO_SUBJECT  — only the subject says so ("Out of Office", "Automatic reply", "Autoreply",
 *                        "Otomatik yanıt", "Ofis dışında"…, after any Re:/Fwd:). Weaker: a human may have
 *                        written it; thread or file it, but never send an automatic answer to it. */
enum { MAIL_AUTO_NONE = 0, MAIL_AUTO_SUBJECT = 1, MAIL_AUTO_HEADER = 2 };

struct mail_message {
  char *message_id;             /* without <>, or NULL (also when nothing is left of it once cleaned) */
  char *in_reply_to;            /* the first message id of In-Reply-To, without <>, or NULL */
  char **references;            /* References, oldest first, without <>, none empty */
  size_t references_count;
  struct mail_address from;     /* first mailbox of From (fields NULL when absent) */
  struct mail_address reply_to; /* first mailbox of Reply-To (fields NULL when absent) */
  struct mail_address *to;      /* every mailbox of To, groups flattened */
  size_t to_count;
  struct mail_address *cc;
  size_t cc_count;
  char *subject;                /* UTF-8, encoded words decoded, never NULL ("" when absent) */
  time_t date;                  /* Date header as unix time, 0 when absent or unparsable */
  char *text;                   /* UTF-8 text body, never NULL: text/plain, else a text rendering of the HTML */
  char *html;                   /* sanitised HTML body (see mail_html_sanitize_new), or NULL when there is none */
  struct mail_attachment *attachments;
  size_t attachments_count;
  int is_auto_reply;            /* MAIL_AUTO_* */
  int is_bounce;                /* multipart/report;report-type=delivery-status, or From MAILER-DAEMON/postmaster */
  char *bounce_message_id;      /* for a bounce: Message-ID of the original message when found, without <> */
};

/* Parses one raw RFC 5322 message of len bytes. Returns a message the caller frees with mail_message_free, or
 * NULL with a reason in err (errlen bytes, may be 0) when it is not a mail message at all (no header block):
 * the caller keeps the raw bytes for an admin. Broken MIME structure (missing boundaries, bad encodings) is
 * parsed as far as it goes, as mail clients do. */
struct mail_message *mail_parse_new(const char *raw, size_t len, char *err, size_t errlen);
void mail_message_free(struct mail_message *m);

/* Sanitises an HTML body for display: an allowlist of tags and attributes (no script, style, iframe, object,
 * form, event handlers; links only http, https, mailto, tel; style attributes reduced to safe declarations);
 * well-nested output. Images: data:image/(png|gif|jpeg|webp) kept; http(s) images become
 * <img data-remote-src="URL"> so the UI loads them only when asked; cid:X images whose X is the content_id of
 * attachments[i] become <img data-attachment-index="i">, other cid: images are dropped. Links get
 * rel="noopener noreferrer nofollow" target="_blank". Caller frees. */
char *mail_html_sanitize_new(const char *html, const struct mail_attachment *attachments, size_t attachments_count);

/* The same allowlist for HTML a shop sends in its own mail (campaigns): as mail_html_sanitize_new, except that
 * http(s) images keep their src (the recipient's mail client decides whether to load them). Caller frees. */
char *mail_html_sanitize_mail_new(const char *html);

/* A readable plain-text rendering of an HTML fragment (blocks as lines, list items as "- ", links as
 * "text <URL>", entities decoded, script/style dropped, no control characters but tab and newline). Caller frees. */
char *mail_html_to_text_new(const char *html);

/* Replaces each data-attachment-index="i" that mail_html_sanitize_new wrote with src="urls[i]" (HTML-escaped);
 * indices out of range or with a NULL url are left as they are. Caller frees. */
char *mail_html_bind_attachments_new(const char *html, const char *const *urls, size_t urls_count);

/* The ticket reference in a subject: "Re: Fwd: [#1042] Kargo" -> "1042" (digits only, the first "[#digits]"),
 * or NULL when there is none. Caller frees. */
char *mail_ticket_ref_new(const char *subject);

/* The new part of a reply: text up to the first quoted block, which is a line starting with '>', an attribution
 * line ("On … wrote:", "… tarihinde … yazdı:") followed by quoted text, or an Outlook separator
 * ("-----Original Message-----", "-----Özgün İleti-----", "From: … Sent: …" header block). Conservative: when
 * stripping would leave nothing, the whole text is returned. Trailing blank lines are removed. Caller frees. */
char *mail_strip_quoted_new(const char *text);

/* An outgoing message. Strings are UTF-8; NULL means absent. */
struct mail_outgoing {
  struct mail_address from;               /* address required; the Message-ID domain is taken from it */
  const struct mail_address *to;          /* at least one */
  size_t to_count;
  const struct mail_address *cc;
  size_t cc_count;
  const char *reply_to;                   /* address only */
  const char *subject;                    /* RFC 2047-encoded when not ASCII */
  const char *message_id;                 /* without <>; NULL: generated as <random@from-domain> */
  const char *in_reply_to;                /* without <> */
  const char *const *references;          /* without <>, oldest first */
  size_t references_count;
  time_t date;                            /* 0: now */
  const char *text;                       /* text/plain body (required unless html is given) */
  const char *html;                       /* with text: multipart/alternative */
  const struct mail_attachment *attachments; /* filename, content_type, data, size; content_id+is_inline for inline */
  size_t attachments_count;
  int auto_submitted;                     /* 1: "Auto-Submitted: auto-replied" (RFC 3834), for automatic answers */
};

/* Builds the message: CRLF line ends, no line over 998 octets (bodies quoted-printable or base64), headers
 * folded. Returns the bytes (NUL-terminated too) with *len set, or NULL when m lacks from/to or a body.
 * Caller frees. */
char *mail_compose_new(const struct mail_outgoing *m, size_t *len);

/* The Message-ID mail_compose_new would generate for a sender address: "<random>@<domain>" without <>. Caller
 * frees. Lets the caller store the id before sending. */
char *mail_message_id_new(const char *from_address);

#endif
