"""The API's webhook signing secrets: ``/signing-secrets``, the caller's own (see
:mod:`timer_service.signing_secrets` for their rules). Declared on the handler's resolver by
:func:`register`, like its other operations, so the OpenAPI document lists their answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from api.openapi import DocumentedResolver
from timer_service.signing_secrets import SECRET_ID_PATTERN
from timer_service.signing_service import (
    NewSigningSecretView,
    RotateRequest,
    SigningSecretPage,
    SigningSecretService,
)

__all__ = ["register"]

SecretId = Annotated[
    str, Path(pattern=SECRET_ID_PATTERN, description="the signing secret's id (key_...)")
]


def _created(view: NewSigningSecretView) -> Response[NewSigningSecretView]:
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=view.model_dump(mode="json", by_alias=True),
    )


def register(
    app: DocumentedResolver,
    *,
    owner: Callable[[], str],
    secrets: Callable[[], SigningSecretService],
) -> None:
    """Declare the signing-secret operations on ``app``: the caller is ``owner()``."""

    @app.operation(
        "POST",
        "/signing-secrets",
        success=(201,),
        errors=(409,),
        summary="Create your webhook signing secret (shown in this answer only)",
    )
    def create_signing_secret() -> Response[NewSigningSecretView]:
        return _created(secrets().create(owner()))

    @app.operation("GET", "/signing-secrets", summary="Your signing secrets, never their values")
    def list_signing_secrets() -> SigningSecretPage:
        return secrets().list(owner())

    @app.operation(
        "POST",
        "/signing-secrets/<id>/rotate",
        success=(201,),
        errors=(404, 409),
        summary="A new signing secret; the old one signs on for graceSeconds, then retires",
    )
    def rotate_signing_secret(
        id: SecretId, request: Annotated[RotateRequest | None, Body()] = None
    ) -> Response[NewSigningSecretView]:
        grace = RotateRequest() if request is None else request
        return _created(secrets().rotate(owner(), id, grace_s=grace.grace_seconds))

    @app.operation(
        "DELETE",
        "/signing-secrets/<id>",
        errors=(404,),
        summary="Retire a signing secret now: deliveries stop carrying its signature",
    )
    def delete_signing_secret(id: SecretId) -> dict[str, str]:
        return {"id": secrets().delete(owner(), id)}
