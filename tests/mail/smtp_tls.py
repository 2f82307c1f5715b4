"""A test SMTP server with TLS: aiosmtpd with the sink handler of smtp_sink.py, offering STARTTLS
(mode "starttls") or speaking TLS from the first byte (mode "implicit"), with the certificate and key in
$MAIL_SINK_CERT and $MAIL_SINK_KEY. Each accepted mail gets an "X-Sink-TLS: yes|no" line, so a test can tell
whether it travelled encrypted.

Run: PYTHONPATH=tests/mail MAIL_SINK_DIR=/tmp/x MAIL_SINK_CERT=c.pem MAIL_SINK_KEY=k.pem \
     /usr/bin/python3 tests/mail/smtp_tls.py starttls|implicit 127.0.0.1 PORT
"""
import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP

from smtp_sink import Handler


class TlsHandler(Handler):
    async def handle_DATA(self, server, session, envelope):
        # STARTTLS sets session.ssl; an implicit-TLS transport carries its ssl_object from the start.
        encrypted = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        tls = "yes" if encrypted else "no"
        envelope.original_content = ("X-Sink-TLS: %s\r\n" % tls).encode() + envelope.original_content
        return await super().handle_DATA(server, session, envelope)


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.environ["MAIL_SINK_CERT"], os.environ["MAIL_SINK_KEY"])
    handler = TlsHandler()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if mode == "implicit":
        factory = lambda: SMTP(handler)
        server = loop.run_until_complete(loop.create_server(factory, host=host, port=port, ssl=ctx))
    else:
        factory = lambda: SMTP(handler, tls_context=ctx, require_starttls=False)
        server = loop.run_until_complete(loop.create_server(factory, host=host, port=port))
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
