"""How the client proves who it is: SigV4 for a deployed stack (``apiAuth=IAM``), an API key
(``apiAuth=API_KEY``, or a local stack's ``--api-key``), or nothing (a local stack).

:class:`SigV4Auth` signs with botocore's signer (service ``execute-api``) and the usual AWS
credential chain (environment, profile, SSO, container or instance role), looked up once, when
the first request is signed; temporary credentials are refreshed by botocore as they expire.
It signs the headers the API reads (``Host``, ``Content-Type``, ``If-Match``,
``If-None-Match``, ``X-Api-Key``) and the body's hash, not those a proxy may rewrite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any

import httpx

from timer_service.client.errors import CredentialsError

__all__ = ["ApiKeyAuth", "SigV4Auth"]

SIGNED_HEADERS = frozenset({"host", "content-type", "if-match", "if-none-match", "x-api-key"})
_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


class ApiKeyAuth(httpx.Auth):
    """Sends ``X-Api-Key``: a stack deployed with ``apiAuth=API_KEY`` (each key a tenant)."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Api-Key"] = self.api_key
        yield request


class SigV4Auth(httpx.Auth):
    """AWS Signature Version 4 for ``service`` in ``region``; ``credentials`` (botocore's, e.g.
    ``botocore.credentials.Credentials``) or the default chain's; ``now`` tells the time."""

    requires_request_body = True  # the signature covers the body's SHA-256

    def __init__(
        self,
        *,
        region: str,
        service: str = "execute-api",
        credentials: Any = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.region = region
        self.service = service
        self._credentials = credentials
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def credentials(self) -> Any:
        """The credentials it signs with: those given, else the default chain's (looked up once)."""
        if self._credentials is None:
            with self._lock:
                if self._credentials is None:
                    import botocore.session

                    found = botocore.session.get_session().get_credentials()
                    if found is None:
                        raise CredentialsError(
                            "no AWS credentials: configure them as for the AWS CLI"
                        )
                    self._credentials = found
        return self._credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add ``X-Amz-Date``, ``X-Amz-Security-Token`` (temporary credentials) and
        ``Authorization`` to ``request``, as botocore signs for AWS services."""
        from botocore.auth import SigV4Auth as BotocoreSigner
        from botocore.awsrequest import AWSRequest

        frozen = self.credentials().get_frozen_credentials()
        timestamp = self._now().astimezone(UTC).strftime(_SIGV4_TIMESTAMP)
        headers = {k: v for k, v in request.headers.items() if k.lower() in SIGNED_HEADERS}
        headers["X-Amz-Date"] = timestamp
        if frozen.token:
            headers["X-Amz-Security-Token"] = frozen.token
        signed = AWSRequest(
            method=request.method, url=str(request.url), data=request.content, headers=headers
        )
        signed.context["timestamp"] = timestamp
        signer = BotocoreSigner(frozen, self.service, self.region)
        canonical = signer.canonical_request(signed)
        signature = signer.signature(signer.string_to_sign(signed, canonical), signed)
        names = signer.signed_headers(signer.headers_to_sign(signed))
        scope = signer.credential_scope(signed)
        request.headers["X-Amz-Date"] = timestamp
        if frozen.token:
            request.headers["X-Amz-Security-Token"] = frozen.token
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope},"
            f" SignedHeaders={names}, Signature={signature}"
        )
