#!/usr/bin/python3
"""Writes the inbound-mail test corpus (tests/mail/corpus/*.eml) used by tests/unit/test_mail.c.

    /usr/bin/python3 tests/mail/make_corpus.py tests/mail/corpus

Deterministic (fixed dates, ids and boundaries), python3 standard library only. The messages are written as
raw bytes so that the test can hold what real clients send, broken parts included: Outlook's windows-1254
labelled as ISO-8859-9, raw 8-bit headers, encoded words split mid-word, RFC 2231 file names, a missing
closing boundary. test_mail.c asserts the parsed result of each file exactly; change both together.
"""
import base64
import os
import quopri
import sys


def ew(text, charset, enc):
    """One RFC 2047 encoded word."""
    raw = text.encode(charset)
    if enc == "b":
        return "=?%s?b?%s?=" % (charset, base64.b64encode(raw).decode())
    out = []
    for b in raw:
        c = chr(b)
        if c == " ":
            out.append("_")
        elif 33 <= b < 127 and c not in "=?_":
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?%s?q?%s?=" % (charset, "".join(out))


def split_b(*parts):
    """Adjacent padded B words, as Gmail and Outlook split long text (GMime 3.2.13 loses all but the first)."""
    return " ".join(ew(p, "utf-8", "b") for p in parts)


def qp(text, charset):
    return quopri.encodestring(text.encode(charset).replace(b"\n", b"\r\n")).decode()


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


# A 1x1 transparent PNG and a tiny "PDF": attachment sizes are asserted, so keep these bytes fixed.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n% Destek test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

TR = "ğüşıöçİ ĞÜŞIÖÇ"

messages = {}

# 1. Outlook-style ISO-8859-9: quoted-printable subject and body, encoded display name.
messages["tr_iso88599.eml"] = crlf(
    "From: %s <ayse@example.com.tr>\n"
    "To: Destek <destek@magaza.example>\n"
    "Subject: %s\n"
    "Date: Mon, 23 Nov 2026 10:15:00 +0300\n"
    "Message-ID: <iso1@example.com.tr>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=iso-8859-9\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n" % (ew("Ayşe Yılmaz", "iso-8859-9", "q"), ew("Sipariş iptali: " + TR, "iso-8859-9", "q"))
) + qp("Merhaba,\nsiparişimi iptal etmek istiyorum: " + TR + "\nTeşekkürler.\n", "iso-8859-9")

# 2. windows-1254 in base64, subject as a b-word; the body has cp1254-only bytes (“ ” €) under an ISO-8859-9 label.
messages["tr_cp1254.eml"] = crlf(
    "From: =?windows-1254?b?%s?= <mehmet@example.net>\n"
    "To: destek@magaza.example\n"
    "Cc: Muhasebe <muhasebe@magaza.example>, satis@magaza.example\n"
    "Subject: %s\n"
    "Date: Tue, 24 Nov 2026 09:00:00 +0300\n"
    "Message-ID: <cp1254@example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=\"ISO-8859-9\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n" % (base64.b64encode("Mehmet Öztürk".encode("cp1254")).decode(),
            ew("İade talebi ", "windows-1254", "b") + " " + ew("ğüşıöç", "windows-1254", "b"))
) + b64("İade için “kargo” ücreti 50 € mu?\nŞimdiden teşekkürler.\n".encode("cp1254").replace(b"\n", b"\r\n")) + "\r\n"

# 3. UTF-8: a subject split into two encoded words mid-character run, an 8bit body, and an attachment whose file
#    name is RFC 2231 encoded (continuations, percent-encoded UTF-8).
fname = "fatura şubat 2026.pdf".encode("utf-8")
pct = "".join(chr(b) if (b < 128 and chr(b).isalnum()) or chr(b) in ".-" else "%%%02X" % b for b in fname)
messages["tr_utf8.eml"] = crlf(
    "From: \"Zeynep Çelik\" <zeynep@example.org>\n"
    "To: destek@magaza.example\n"
    "Subject: =?utf-8?b?%s?=\n =?UTF-8?B?%s?=\n"
    "Date: Wed, 25 Nov 2026 14:30:00 +0000\n"
    "Message-ID: <utf8@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b-utf8\"\n"
    "\n"
    "--b-utf8\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Faturam ekte. Iğdır'dan yazıyorum: ğüşıöçİ.\n"
    "\n"
    "--b-utf8\n"
    "Content-Type: application/pdf\n"
    "Content-Disposition: attachment;\n filename*0*=utf-8''%s;\n filename*1*=%s\n"
    "Content-Transfer-Encoding: base64\n"
    "\n" % (base64.b64encode("Fatura: ğüş".encode()).decode(), base64.b64encode("ıöçİ".encode()).decode(),
            pct[:19], pct[19:])
) + b64(PDF) + "\r\n--b-utf8--\r\n"

# 4. Raw 8-bit windows-1254 in headers and an undeclared body charset: guessed as windows-1254.
messages["broken_8bit.eml"] = (crlf(
    "From: Gökhan Işık <gokhan@example.com>\n"
    "To: destek@magaza.example\n"
    "Subject: Ürün hasarlı geldi, değişim istiyorum\n"
    "Date: Thu, 26 Nov 2026 08:05:00 +0300\n"
    "Message-ID: <broken8bit@example.com>\n"
    "Content-Type: text/plain\n"
    "\n"
    "Kutunun içi ıslaktı. Lütfen değiştirin.\n").encode("cp1254")).decode("latin-1")

# 5. Nested multipart: mixed[alternative[text, related[html + cid image]], pdf (2047 name), message/rfc822].
inner = crlf(
    "From: Destek <destek@magaza.example>\n"
    "To: ayse@example.com.tr\n"
    "Subject: [#1001] Siparişiniz alındı\n"
    "Date: Sun, 22 Nov 2026 12:00:00 +0300\n"
    "Message-ID: <ack-1001@magaza.example>\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Talebiniz alındı.\n")
messages["nested.eml"] = crlf(
    "From: Ayşe <ayse@example.com.tr>\n"
    "To: destek@magaza.example\n"
    "Subject: Fotoğraflar ve fatura\n"
    "Date: Fri, 27 Nov 2026 11:00:00 +0300\n"
    "Message-ID: <nested@example.com.tr>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "This is a multi-part message in MIME format.\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "%s\n"
    "--alt\n"
    "Content-Type: multipart/related; boundary=\"rel\"; type=\"text/html\"\n"
    "\n"
    "--rel\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><body><p>Hasarlı ürün:</p><img src=\"cid:foto1@example.com.tr\" alt=\"foto\"></body></html>\n"
    "--rel\n"
    "Content-Type: image/png; name=\"foto.png\"\n"
    "Content-ID: <foto1@example.com.tr>\n"
    "Content-Disposition: inline\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "%s\n"
    "--rel--\n"
    "--alt--\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"%s\"\n"
    "Content-Disposition: attachment\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "%s\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "Content-Disposition: attachment\n"
    "\n"
    "%s"
    "--outer--\n" % (qp("Hasarlı ürünün fotoğrafı ekte.\n", "utf-8").rstrip("\r\n"), b64(PNG),
                     split_b("İrsaliye", " Kasım.pdf"), b64(PDF), inner))

# 6. HTML only, hostile: script, event handler, javascript: link, style, iframe, form, remote and data images.
messages["html_only.eml"] = crlf(
    "From: Kampanya <info@example.com>\n"
    "To: destek@magaza.example\n"
    "Subject: =?utf-8?q?=C3=96deme_linki?=\n"
    "Date: Sat, 28 Nov 2026 16:45:00 +0000\n"
    "Message-ID: <html-only@example.com>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<!DOCTYPE html><html><head><title>T</title><style>body{background:url(https://t.example/x)}</style>"
    "<script>alert('head')</script></head>\n"
    "<body onload=\"steal()\"><h1>Merhaba &amp; ho&#351; geldiniz</h1>\n"
    "<p style=\"color: red; background-image: url(https://t.example/p.gif); font-weight: bold\">"
    "&Ouml;deme i&ccedil;in <a href=\"javascript:alert(1)\">buraya</a> ya da "
    "<a href=\"https://magaza.example/odeme?a=1&amp;b=2\" onclick=\"x()\">şuraya</a> tıklayın.</p>\n"
    "<img src=x onerror=\"alert(2)\">"
    "<img src=\"https://t.example/pixel.gif\" width=\"1\" height=\"1\">"
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"logo\">"
    "<img src=\"data:text/html;base64,PHNjcmlwdD4=\">\n"
    "<iframe src=\"https://evil.example/\"></iframe>"
    "<form action=\"https://evil.example/\"><input name=\"p\" type=\"password\">Şifre</form>\n"
    "<a href=\" JaVaScRiPt&#58;alert(3)\">x</a><a href=\"jav&#x09;ascript:alert(4)\">y</a>"
    "<script>document.write('<b>')</script><ul><li>Bir<li>İki</ul>\n"
    "<div>Açık div<table><tr><td>a</td><td>b</td></tr></table>\n"
    "</body></html>\n")

# 7. A reply in a thread: In-Reply-To, References, the ticket reference after Re: Fwd:, a quoted previous message.
messages["reply.eml"] = crlf(
    "From: %s\n <ayse@example.com.tr>\n"
    "To: Destek <destek@magaza.example>\n"
    "Subject: Re: Fwd: [#1042] =?utf-8?q?Kargom_nerede=3F?=\n"
    "Date: Mon, 30 Nov 2026 09:12:00 +0300\n"
    "Message-ID: <CAF=reply-1@mail.example.com>\n"
    "In-Reply-To: <tkt-1042-3@magaza.example>\n"
    "References: <tkt-1042-1@magaza.example>\n <tkt-1042-2@magaza.example> <tkt-1042-3@magaza.example>\n"
    "Reply-To: ayse.yilmaz@example.com.tr\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Teşekkürler, kargo bugün geldi.\n"
    "\n"
    "Destek <destek@magaza.example>, 29 Kas 2026 Paz, 18:00 tarihinde şunu yazdı:\n"
    "> Merhaba Ayşe Hanım,\n"
    "> kargonuz yolda.\n"
    ">\n"
    "> [#1042]\n" % split_b("Ayşe", " Yılmaz"))

# 8. An auto-reply (RFC 3834) in Turkish.
messages["auto_reply.eml"] = crlf(
    "From: Can Demir <can@example.com>\n"
    "To: destek@magaza.example\n"
    "Subject: =?utf-8?q?Otomatik_yan=C4=B1t=3A_=5B=231042=5D_Kargom_nerede=3F?=\n"
    "Date: Mon, 30 Nov 2026 10:00:00 +0300\n"
    "Message-ID: <auto-1@example.com>\n"
    "In-Reply-To: <tkt-1042-4@magaza.example>\n"
    "Auto-Submitted: auto-replied\n"
    "X-Autoreply: yes\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "7 Aralık'a kadar izindeyim.\n")

# 9. Only the subject says "Out of Office": the weak signal.
messages["ooo_subject.eml"] = crlf(
    "From: Deniz <deniz@example.com>\n"
    "To: destek@magaza.example\n"
    "Subject: Out of Office: Siparis 5531\n"
    "Date: Mon, 30 Nov 2026 10:00:00 +0000\n"
    "Message-ID: <ooo-1@example.com>\n"
    "\n"
    "I am away until Monday.\n")

# 10. Precedence: bulk (a newsletter).
messages["bulk.eml"] = crlf(
    "From: Bulten <bulten@example.com>\n"
    "To: destek@magaza.example\n"
    "Subject: Kasim bulteni\n"
    "Date: Mon, 30 Nov 2026 07:00:00 +0000\n"
    "Message-ID: <bulk-1@example.com>\n"
    "Precedence: bulk\n"
    "\n"
    "Yeni urunler.\n")

# 11. A delivery status notification (RFC 3464) returning headers of our message.
messages["bounce.eml"] = crlf(
    "From: Mail Delivery System <MAILER-DAEMON@mx.magaza.example>\n"
    "To: destek@magaza.example\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Date: Tue, 01 Dec 2026 03:00:00 +0000\n"
    "Message-ID: <dsn-1@mx.magaza.example>\n"
    "Auto-Submitted: auto-replied\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\n"
    "\n"
    "--dsn\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "<yok@example.invalid>: host not found\n"
    "\n"
    "--dsn\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.magaza.example\n"
    "\n"
    "Final-Recipient: rfc822; yok@example.invalid\n"
    "Action: failed\n"
    "Status: 5.1.2\n"
    "\n"
    "--dsn\n"
    "Content-Type: text/rfc822-headers\n"
    "\n"
    "From: Destek <destek@magaza.example>\n"
    "To: yok@example.invalid\n"
    "Subject: [#1042] Kargom nerede?\n"
    "Message-ID: <tkt-1042-5@magaza.example>\n"
    "\n"
    "--dsn--\n")

# 12. Broken MIME: a boundary that never closes, a part with a wrong boundary, truncated base64, junk headers.
messages["malformed.eml"] = crlf(
    "From: Bozuk <bozuk@example.com>\n"
    "To: destek@magaza.example\n"
    "Subject: =?utf-8?q?Bozuk_=C3=B6rnek?= =?bogus-charset?q?x=FEy?= =?utf-8?b?!!!?=\n"
    "Date: not a date\n"
    "Message-ID: <malformed@example.com>\n"
    "this line is not a header\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"never\"\n"
    "\n"
    "--never\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Ilk parca.\n"
    "--wrong\n"
    "Content-Type: application/octet-stream; name=kirik.bin\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAECAwQFBgcICQ=\n"
    "--never\n"
    "Content-Type: text/plain; charset=iso-8859-9\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "=FE=FD=F0 yar=FDm kal=\n")

# 13. Not mail at all: no header block.
messages["garbage.eml"] = "\x00\x01\x02\xff\xfe binary junk \x80\x81 with no headers at all\r\n\r\n\x00" * 3


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, text in sorted(messages.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(text.encode("latin-1") if name in ("broken_8bit.eml", "garbage.eml") else text.encode("utf-8"))
    print("wrote %d messages to %s" % (len(messages), out))


if __name__ == "__main__":
    main()
