"""The API's OpenAPI document, as the API really answers.

powertools generates the document from the routes; this resolver adds what it cannot know:
each operation's success statuses (201 for a create, 202 for a trigger), the error answers in
the API's one error shape, each where the operation can give it (powertools documents a 422 the
API never sends: validation errors are 400s here), and links from ``PUT /periodic/{id}`` to the
operations on the created timer, for clients and for stateful testing. The same declarations
give 405 answers their ``Allow``.
It also declares how callers authenticate (an API key in ``X-Api-Key``, or SigV4 in the
spelling API Gateway's own export uses: its ``x-amazon-apigateway-authtype`` extension), for the
whole API, and ``security: []`` on the paths the front lets through without credentials and on
a heartbeat's ping (whose token in the URL is its credential).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

__all__ = ["ERRORS", "SECURITY_SCHEMES", "ApiAuth", "DocumentedResolver", "Operation"]

Handler = TypeVar("Handler", bound=Callable[..., Any])
ApiAuth = Literal["IAM", "API_KEY", "NONE"]

ERRORS: dict[int, str] = {
    400: "The request is malformed; the error names the field",
    401: "No valid API key (or no caller identity)",
    403: "Refused: a deployed stack's caller without valid credentials, a request from a web page"
    " the local stack does not take (its Host or Origin), or a create over the caller's timer"
    " quota",
    404: "No such timer (or signing secret) for the caller",
    409: "The caller's signing secrets do not allow this now (an active one exists, or a"
    " rotation is under way): the message says which to rotate or delete",
    412: "The timer is not at the If-Match version (or, with If-None-Match: *, it exists)",
    413: "The request body is too large",
    429: "Too many requests: retry after the Retry-After header's seconds",
    503: "The store is unavailable for a moment: retry",
}
ANY_REQUEST_ERRORS = (400, 403, 413)  # a body that is not JSON or too large; a foreign Host
#: The conditional-request headers an operation takes (RFC 9110 13.1), as api/handler.py reads them.
CONDITIONS: dict[str, dict[str, Any]] = {
    "If-Match": {
        "description": 'act only if the timer is at this version (its ETag, e.g. "3"), or * if'
        " it exists: else 412",
        "schema": {"type": "string", "pattern": r'^[ \t]*(\*|(W/)?"?[0-9]{1,18}"?)[ \t]*$'},
        "examples": {"version": {"value": '"3"'}, "exists": {"value": "*"}},
    },
    "If-None-Match": {
        "description": "* creates the timer only if it does not exist: else 412",
        "schema": {"type": "string", "enum": ["*"]},
    },
}
TIMER_HEADERS: dict[str, Any] = {  # with every answer that is a timer (TimerView)
    "ETag": {
        "description": "the timer's version, quoted: send it back in If-Match",
        "required": True,
        "schema": {"type": "string", "examples": ['"3"']},
    }
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "seconds to wait before the next request",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "examples": ["validation_error"]},
                "message": {"type": "string"},
                "field": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "examples": ["schedule"],
                },
            },
        }
    },
}
#: By the names API Gateway gives them when it exports a stage as OpenAPI.
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "sigv4": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
        "description": "AWS Signature Version 4 (service execute-api) by IAM credentials"
        " allowed execute-api:Invoke: apiAuth=IAM",
    },
    "api_key": {
        "type": "apiKey",
        "name": "X-Api-Key",
        "in": "header",
        "description": "an API key: of the usage plan (apiAuth=API_KEY), or --api-key of a"
        " local stack",
    },
}
_SCHEMES_OF: dict[ApiAuth | None, tuple[str, ...]] = {
    "IAM": ("sigv4",),
    "API_KEY": ("api_key",),
    "NONE": (),
    None: ("sigv4", "api_key"),  # not known: either, as a deployed stack takes one of them
}
_PARAMETER = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class Operation:
    """What an operation answers besides its body's schema."""

    method: str
    path: str  # powertools form: /periodic/<id>
    operation_id: str
    success: tuple[int, ...]
    errors: tuple[int, ...]  # besides those of any request, of credentials and of the rate
    conditions: tuple[str, ...] = ()  # CONDITIONS it takes
    links_from_put: bool = False  # PUT /periodic/{id} links to it
    uses_aws: bool = True  # reads or writes DynamoDB or SQS: a 503 when they fail for a moment
    public: bool = False  # no caller authentication: a heartbeat's ping (its token is its own)

    @property
    def openapi_path(self) -> str:
        return _PARAMETER.sub(r"{\1}", self.path)


class DocumentedResolver(APIGatewayRestResolver):
    """powertools' REST resolver whose OpenAPI document lists the answers the API gives."""

    def __init__(
        self,
        *,
        api_auth: Callable[[], ApiAuth | None],
        open_paths: Callable[[], Collection[str]] = tuple,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.operations: list[Operation] = []
        self.undocumented_paths: dict[str, set[str]] = {}  # e.g. Swagger UI's
        self._api_auth = api_auth  # both asked each time a document is made
        self._open_paths = open_paths

    def operation(
        self,
        method: str,
        path: str,
        *,
        success: tuple[int, ...] = (200,),
        errors: tuple[int, ...] = (),
        conditions: tuple[str, ...] = (),
        links_from_put: bool = False,
        uses_aws: bool = True,
        public: bool = False,
        **options: Any,
    ) -> Callable[[Handler], Handler]:
        """``route``, declaring the operation's statuses: ``errors`` are those of the operation
        itself; those any request can get are added where they apply (:meth:`_errors_of`);
        ``public``: it takes no caller authentication (a heartbeat's ping)."""

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=handler.__name__,
                    success=success,
                    errors=errors,
                    conditions=conditions,
                    links_from_put=links_from_put,
                    uses_aws=uses_aws,
                    public=public,
                )
            )
            decorated: Handler = self.route(
                path, method=method, operation_id=handler.__name__, **options
            )(handler)
            return decorated

        return register

    def base_path(self) -> str:
        """The stage prefix of the current request's URL ("/prod"), or "" without one."""
        base: str = self._get_base_path()
        return base

    def allowed_methods(self, path: str) -> set[str]:
        """The methods the API answers on ``path`` (with HEAD and OPTIONS where GET is)."""
        methods: set[str] = set()
        patterns = [(o.path, {o.method}) for o in self.operations]
        patterns += list(self.undocumented_paths.items())
        for pattern, found in patterns:
            if re.fullmatch(_PARAMETER.sub("[^/]+", pattern), path):
                methods |= found
        if not methods:
            return set()
        return methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())

    def _errors_of(self, operation: Operation, *, authenticated: bool) -> list[int]:
        """The errors ``operation`` can answer: those of any request, its own, a 401 (a stack
        with credentials) and a 429 (the rate limit) unless the front lets its path through,
        and a 503 when it calls AWS."""
        errors = {*ANY_REQUEST_ERRORS, *operation.errors}
        if operation.public:
            errors.add(429)  # no credentials, but rate limited
        elif operation.openapi_path not in self._open_paths():
            errors |= {401, 429} if authenticated else {429}
        if operation.uses_aws:
            errors.add(503)
        return sorted(errors)

    def get_openapi_schema(self, **options: Any) -> Any:
        schema = super().get_openapi_schema(**options)
        document = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
        self._describe_answers(document)
        return type(schema).model_validate(document)

    def _describe_answers(self, document: dict[str, Any]) -> None:
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorBody"] = ERROR_SCHEMA
        schemes = _SCHEMES_OF[self._api_auth()]
        requirements = [{name: []} for name in schemes]  # alternatives: any one of them
        open_paths = self._open_paths()
        if schemes:
            document["components"]["securitySchemes"] = {
                name: SECURITY_SCHEMES[name] for name in schemes
            }
            document["security"] = requirements
        for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            components.pop(name, None)
        put_links = {
            o.operation_id: {
                "operationId": o.operation_id,
                "parameters": {"id": "$request.path.id"},
            }
            for o in self.operations
            if o.links_from_put
        }
        for operation in self.operations:
            found = document.get("paths", {}).get(operation.openapi_path, {})
            entry = found.get(operation.method.lower())
            if entry is None:
                continue  # left out of the document (include_in_schema=False)
            if schemes:  # said on each operation too: some tools read only the operation's
                open_path = operation.public or operation.openapi_path in open_paths
                entry["security"] = [] if open_path else requirements
            responses = entry["responses"]
            responses.pop("422", None)
            if operation.conditions:
                entry.setdefault("parameters", []).extend(
                    {"name": name, "in": "header", "required": False, **CONDITIONS[name]}
                    for name in operation.conditions
                )
            success = responses.pop("200", {"description": "Success"})
            is_timer = (
                success.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
                == "#/components/schemas/TimerView"
            )
            for status in operation.success:
                answer = dict(success)
                if is_timer:
                    answer["headers"] = TIMER_HEADERS
                if operation.method == "PUT" and put_links:
                    answer["links"] = put_links
                answer["description"] = {201: "Created", 202: "Accepted"}.get(
                    status, success.get("description", "Success")
                )
                responses[str(status)] = answer
            for status in self._errors_of(operation, authenticated=bool(schemes)):
                responses[str(status)] = {
                    "description": ERRORS[status],
                    **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    },
                }
