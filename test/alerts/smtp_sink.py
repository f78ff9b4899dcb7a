"""A real SMTP server (aiosmtpd) for the e-mail notifier's tests: prints each
received message as one JSON line on stdout. Usage: smtp_sink.py PORT"""
import json
import signal
import sys

from aiosmtpd.controller import Controller


class Recorder:
    async def handle_DATA(self, server, session, envelope):
        message = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf8", errors="replace"),
        }
        print(json.dumps(message), flush=True)
        return "250 Message accepted for delivery"


controller = Controller(Recorder(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("READY", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
