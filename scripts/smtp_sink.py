"""A real SMTP server for the tests (aiosmtpd): listens on a free loopback
port, writes that port to PORT_FILE, and saves each message it receives as
MAILDIR/NNNN.eml (written whole, then renamed). Stop it with SIGTERM.

    smtp_sink.py MAILDIR PORT_FILE
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Saver:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.maildir, f"{self.count:04}.eml")
        with open(path + ".tmp", "wb") as out:
            out.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            out.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


async def main(maildir, port_file):
    saver = Saver(maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(saver), host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as out:
        out.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
