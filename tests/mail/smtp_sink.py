"""A test SMTP server's handler: every message it accepts is written as one .eml file (the envelope in
X-Sink-* headers first) into the directory named by $MAIL_SINK_DIR.

Run: PYTHONPATH=tests/mail MAIL_SINK_DIR=/tmp/x /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Handler
"""
import os
import time


class Handler:
    def __init__(self):
        self.dir = os.environ["MAIL_SINK_DIR"]
        self.seq = 0

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        name = "%d-%06d-%d.eml" % (os.getpid(), self.seq, int(time.time() * 1000))
        head = "X-Sink-Mail-From: %s\r\nX-Sink-Rcpt-To: %s\r\n" % (
            envelope.mail_from, ",".join(envelope.rcpt_tos))
        tmp = os.path.join(self.dir, "." + name)
        with open(tmp, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(tmp, os.path.join(self.dir, name))  # readers never see half a file
        return "250 Message accepted for delivery"
