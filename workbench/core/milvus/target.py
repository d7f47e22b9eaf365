"""Where Milvus is, and how its failures read: what a connection and every call on it share.

`MilvusTarget` names a Milvus Lite file or a server (its token never shown); `service_errors` turns pymilvus'
and gRPC's exceptions into one `ServiceError` sentence a person can act on, with the detail logged at DEBUG
level (tokens scrubbed). Both `connection` (opening) and `store` (every call) use them, so they live here, under
both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.paths import default_milvus_uri
from workbench.core.secrets import scrub as scrub_secrets

log = logging.getLogger("workbench.core.milvus")

_SERVER_SCHEMES = ("http", "https", "tcp", "unix", "grpc")
_AUTH_FAILURE = re.compile(r"unauthenticated|authenticat\w* fail|auth failed|permission denied|invalid token", re.I)


@dataclass(frozen=True)
class MilvusTarget:
    """Where the vectors live: a Milvus Lite `.db` path, or a server URI with an optional token.

    The token is kept out of `repr` and `display`, and is scrubbed from every message we raise.
    """

    uri: str = ""
    token: str = field(default="", repr=False)
    timeout: float = 10.0

    @classmethod
    def default(cls) -> MilvusTarget:
        return cls(default_milvus_uri())

    @property
    def resolved_uri(self) -> str:
        uri = self.uri or default_milvus_uri()
        return uri if self.is_server else str(Path(uri).expanduser().resolve())

    @property
    def is_server(self) -> bool:
        return urlsplit(self.uri).scheme.lower() in _SERVER_SCHEMES

    @property
    def display(self) -> str:
        """The URI as shown to people: `user:password@` in a server URI becomes `***@` (secrets.scrub, the one
        URL masker), so it is plain that credentials are in use without showing them."""
        return scrub_secrets(self.uri) if self.is_server else self.resolved_uri

    def scrub(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text


class MissingCollection(InputError):
    """There is no collection of that name at the target (`has_collection` said so). Its own type, so a caller
    that says what to do about it (the search lab: push the documents first) knows it by type, not by wording."""


class MilvusUnreachable(ServiceError):
    """Milvus did not answer at all (no server, wrong URI): its own type, so a failed filtered read is not
    blamed on the filter (`MilvusStore._run_filtered`) by the wording of this sentence."""


def missing_collection(name: str, target: MilvusTarget) -> MissingCollection:
    return MissingCollection(f"There is no collection '{name}' at {target.display}.")


def service_error(target: MilvusTarget, action: str, error: Exception) -> ServiceError:
    """The one sentence for a failed pymilvus call (for a failure a `with service_errors` block cannot wrap)."""
    message = getattr(error, "message", None) or str(error)
    message = target.scrub(str(message)).strip().splitlines()[0] if message else type(error).__name__
    log.debug("Milvus %s failed at %s: %s", action, target.display, message)
    code = getattr(error, "code", None)
    if code == 2 or "Fail connecting" in message:
        return MilvusUnreachable(f"Cannot reach Milvus at {target.display}: check the URI and that the server runs.")
    if _AUTH_FAILURE.search(message):
        return ServiceError(f"Milvus at {target.display} refused the credentials: check the token.")
    return ServiceError(f"Milvus could not {action}: {message}")


@contextmanager
def service_errors(target: MilvusTarget, action: str) -> Iterator[None]:
    """Turn pymilvus' and gRPC's exceptions into our one-sentence ServiceError."""
    try:
        yield
    except (InputError, ServiceError, Cancelled):
        raise
    except Exception as error:
        raise service_error(target, action, error) from error
