"""Sending a report by mail: one message with the PDF attached, through the team's SMTP server with STARTTLS.

The server is configured in the secrets file's `[smtp]` block (`.streamlit/secrets.toml`, as the app's other
secrets):

    [smtp]
    host = "smtp.example.com"
    port = 587                   # default 587 (submission)
    user = "reports@example.com" # with password; leave both out for a relay that takes no login
    password = "…"
    from = "Marketing KPI Studio <reports@example.com>"
    ca_file = "/etc/ssl/internal-ca.pem"   # optional: the CA of a server with its own certificate

The connection is always upgraded with STARTTLS before the login and the message, and the server's certificate
is checked. The password is never printed: it is not in `Smtp`'s repr, and no error message quotes it.
"""

from __future__ import annotations

import smtplib
import ssl
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

SECRETS = Path(".streamlit") / "secrets.toml"
BLOCK = "smtp"
TIMEOUT = 30  # seconds for the server to answer each step


class MailError(Exception):
    """The report could not be sent (or the settings are incomplete); the message says why, without secrets."""


@dataclass(frozen=True)
class Smtp:
    """Where and as whom reports are sent from (the `[smtp]` block of the secrets)."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None


def smtp_settings(path: str | Path | None = None) -> Smtp:
    """The `[smtp]` block of the secrets file `path` (default: `.streamlit/secrets.toml` here); MailError naming
    the file and the missing or wrong field when it cannot be used."""
    where = Path(path) if path is not None else SECRETS
    try:
        block = tomllib.loads(where.read_text(encoding="utf-8")).get(BLOCK)
    except FileNotFoundError:
        raise MailError(f"no secrets file '{where}': mail needs its [{BLOCK}] block (host, port, user, password, "
                        "from)") from None
    except tomllib.TOMLDecodeError as exc:
        raise MailError(f"'{where}' is not valid TOML: {exc}") from None
    if not isinstance(block, dict):
        raise MailError(f"'{where}' has no [{BLOCK}] block (host, port, user, password, from)")
    missing = [name for name in ("host", "from") if not str(block.get(name) or "").strip()]
    if missing:
        raise MailError(f"the [{BLOCK}] block of '{where}' needs {' and '.join(missing)}")
    if bool(block.get("user")) != bool(block.get("password")):
        raise MailError(f"the [{BLOCK}] block of '{where}' needs both user and password, or neither")
    try:
        port = int(block.get("port", 587))
    except (TypeError, ValueError):
        raise MailError(f"port in the [{BLOCK}] block of '{where}' must be a number") from None
    return Smtp(str(block["host"]).strip(), port, str(block["from"]).strip(), block.get("user") or None,
                block.get("password") or None, block.get("ca_file") or None)


def message(smtp: Smtp, to: Sequence[str], subject: str, body: str, filename: str, pdf: bytes) -> EmailMessage:
    """The mail: `body` as text with the PDF `pdf` attached as `filename`."""
    bad = [a for a in to if "@" not in parseaddr(a)[1]]
    if bad or not to:
        raise MailError(f"not an e-mail address: {', '.join(bad) or '(none given)'}")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = smtp.sender, ", ".join(to), subject
    mail.set_content(body)
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return mail


def send(smtp: Smtp, to: Sequence[str], subject: str, body: str, filename: str, pdf: bytes) -> None:
    """Send the report to `to` through `smtp`: STARTTLS with the certificate checked, then the login (when the
    settings have one) and the message. MailError when any step fails."""
    mail = message(smtp, to, subject, body, filename, pdf)
    context = ssl.create_default_context(cafile=smtp.ca_file)
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT) as server:
            server.starttls(context=context)
            if smtp.user and smtp.password:
                server.login(smtp.user, smtp.password)
            server.send_message(mail)
    except smtplib.SMTPAuthenticationError:
        raise MailError(f"the SMTP server {where} refused the user name and password in the secrets") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"the SMTP server {where} does not offer STARTTLS; the report is not sent in clear") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise MailError(f"could not send the report through {where}: {type(exc).__name__}: {exc}") from None
