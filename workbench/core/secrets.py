"""Where an API key may live besides memory: the OS keyring (via `keyring`), and nowhere else.

"Remember key" stores it there when a real backend exists (macOS Keychain, Windows Credential Locker, Secret
Service); where none does (a bare Linux box, CI), `remember_key` says so instead of falling back to a file,
because a key in a plain file is the leak this module exists to prevent.
"""

from __future__ import annotations

import contextlib

SERVICE = "embedding-workbench"


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
