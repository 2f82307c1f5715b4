"""A test SMTP server that requires a login: aiosmtpd with the sink handler of smtp_sink.py and AUTH PLAIN/LOGIN
checked against one user and password (from $MAIL_SINK_USER and $MAIL_SINK_PASSWORD). Loopback only, so AUTH is
offered without TLS (auth_require_tls=False); a mail sent without logging in is refused (auth_required).

Run: PYTHONPATH=tests/mail MAIL_SINK_DIR=/tmp/x MAIL_SINK_USER=u MAIL_SINK_PASSWORD=p \
     /usr/bin/python3 tests/mail/smtp_auth.py 127.0.0.1 PORT
"""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from smtp_sink import Handler


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login.decode() == os.environ["MAIL_SINK_USER"]
          and auth_data.password.decode() == os.environ["MAIL_SINK_PASSWORD"])
    return AuthResult(success=ok, handled=False)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    handler = Handler()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, authenticator=authenticator, auth_require_tls=False, auth_required=True),
        host=host, port=port))
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
