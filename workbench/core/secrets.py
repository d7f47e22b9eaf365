"""Where an API key may live besides memory: the OS keyring (via `keyring`), and nowhere else; and the scrubber
that keeps every secret the app has seen out of log lines and crash reports.

"Remember key" stores it there when a real backend exists (macOS Keychain, Windows Credential Locker, Secret
Service); where none does (a bare Linux box, CI), `remember_key` says so instead of falling back to a file,
because a key in a plain file is the leak this module exists to prevent.

Secrets are never formatted into messages on purpose, but a library may echo a request or an exception may
carry a header. So whoever takes a secret in (the key field, the token field, the environment) registers it,
and `scrub` / `ScrubSecrets` replace it with *** wherever text leaves the process in a file.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import threading
from urllib.parse import unquote, urlsplit, urlunsplit

SERVICE = "embedding-workbench"
MIN_SECRET_LENGTH = 8  # shorter values (a test token "T") would scrub ordinary words
# Every HTTP library that may log a request line (URL with userinfo, headers): quiet below WARNING.
HTTP_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "google_genai")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]+@")
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# Where the Gemini key may come from, first found wins. GEMINI_API_KEY first, as the README and every message name
# it; google-genai's own lookup prefers GOOGLE_API_KEY, but we always pass the key in, so this order is the one used.
GEMINI_KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def register_secret(value: str | None) -> None:
    """Remember a key or token for the session, so `scrub` hides it (never written anywhere)."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value.strip())


def gemini_key_from_env() -> str | None:
    """The Gemini key from the environment (`GEMINI_KEY_VARIABLES`, an empty one skipped), or None; registered
    with `register_secret` so it is scrubbed from logs and crash reports from the moment it is read."""
    key = next((value for name in GEMINI_KEY_VARIABLES if (value := os.environ.get(name))), None)
    register_secret(key)
    return key


def register_url_secrets(url: str | None) -> None:
    """Register the credentials of a URL (`scheme://user:password@host/`): the password, the userinfo with its
    `@` (any length: `user:pass@` is never ordinary text), decoded or not, and the Basic header they become."""
    if not url:
        return
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return
    userinfo = parts.netloc.rpartition("@")[0]
    if not userinfo:
        return
    with _secrets_lock:
        for form in {userinfo, unquote(userinfo)}:
            _secrets.add(f"{form}@")
            if ":" in form:
                _secrets.add(base64.b64encode(form.encode()).decode())
    for password in {userinfo.partition(":")[2], unquote(userinfo.partition(":")[2])}:
        register_secret(password)


def shown_url(url: str) -> str:
    """`url` as it may be shown or logged: without `user:password@`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def scrub(text: str) -> str:
    """`text` with every registered secret, and the userinfo of any URL (registered or not), replaced by ***."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "***")
    return _URL_USERINFO.sub(r"\1***@", text)


class ScrubSecrets(logging.Filter):
    """A handler filter: the formatted message and any traceback of a record are scrubbed before they are written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def keyring_available() -> bool:
    """True when keyring has a real backend (not the 'fail' placeholder)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def remember_key(name: str, secret: str) -> str:
    """Store a secret in the OS keyring; return a sentence for the user either way (never the secret)."""
    if not keyring_available():
        return "No system keyring is available here, so the key is kept for this session only."
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, name, secret)
    except KeyringError as error:
        return (
            f"The system keyring refused to store the key ({type(error).__name__}); it is kept for this session only."
        )
    return "The key is stored in the system keyring."


def recalled_key(name: str) -> str | None:
    """The secret stored under `name`, or None (no backend, nothing stored, or the keyring is locked)."""
    if not keyring_available():
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, name)
    except KeyringError:
        return None


def forget_key(name: str) -> None:
    if not keyring_available():
        return
    import keyring
    from keyring.errors import KeyringError

    with contextlib.suppress(KeyringError):
        keyring.delete_password(SERVICE, name)
