"""A real SMTP server (aiosmtpd) for the e-mail notifier's tests: prints each
received message as one JSON line on stdout. Usage: smtp_sink.py PORT"""
import json
import signal
import sys
from email import message_from_bytes
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


class Recorder:
    async def handle_DATA(self, server, session, envelope):
        # Decoded by Python's own MIME parser, so a test reads the subject and
        # parts as a mail client shows them (encoded words, quoted-printable).
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        message = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf8", errors="replace"),
            "subject": str(parsed["subject"] or ""),
            "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "",
        }
        print(json.dumps(message), flush=True)
        return "250 Message accepted for delivery"


controller = Controller(Recorder(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("READY", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
