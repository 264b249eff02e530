"""The OpenAPI contract, checked by Schemathesis against a real server process.

No 5xx, every status code, content type and body as documented: with a valid token, an admin's
and bad ones, with Web Push, the email digest (a real SMTP server on the loopback) and
analytics switched on. Then every string a route takes (path, query, JSON body one level deep)
is replaced in turn by values an attacker tries at the edges (NUL, control characters, lone
and neighbouring surrogates, case variants, the calendar's first and last hours): still no 5xx.
The stream endpoint (endless by design) is covered by tests/http/test_stream.py instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import CheckFunction
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.channels.push import keys
from service.http.auth import mint_token
from tests.support.mailbox import Mailbox
from tests.support.processes import serve_process
from tests.support.server import settings_for

PUBLIC, PRIVATE = keys.new_pair()


@pytest.fixture(scope="module")
def api_server(database_url: str, module_mailbox: Mailbox) -> Iterator[str]:
    everything_on = {
        "VAPID_PUBLIC_KEY": PUBLIC,
        "VAPID_PRIVATE_KEY": PRIVATE,
        "VAPID_SUBJECT": "https://vividly.example/contact",
        "PUBLIC_URL": "https://notify.example",
        "SMTP_HOST": module_mailbox.host,
        "SMTP_PORT": str(module_mailbox.port),
        "SMTP_TLS": "none",
        "EMAIL_FROM": "Vividly <digest@example.com>",
    }
    with serve_process(database_url, dev_login=True, env=everything_on) as (base, _process):
        yield base


@pytest.fixture(scope="module")
def api_schema(api_server: str) -> BaseSchema:
    loaded = schemathesis.openapi.from_url(api_server + "/openapi.json")
    return loaded.exclude(path="/api/v1/notifications/stream")


OTHER_SECRET = "other-secret-9876543210-zyxwvutsrqpon"


@pytest.fixture(scope="module")
def tokens(database_url: str) -> list[str]:
    """A valid token, then bad ones: every generated request is sent with each."""
    settings = settings_for(database_url)
    user = uuid.uuid4()
    return [
        mint_token(user, settings),
        mint_token(uuid.uuid4(), settings, roles=["admin"]),
        mint_token(user, settings, ttl=timedelta(seconds=-10)),
        mint_token(uuid.uuid4(), settings_for(database_url, jwt_secret=OTHER_SECRET)),
        "not-a-token",
    ]


def test_the_document_describes_errors_and_examples(api_server: str) -> None:
    document = httpx.get(api_server + "/openapi.json").json()
    history = document["paths"]["/api/v1/notifications/history"]["get"]
    assert {"200", "401", "422"} <= set(history["responses"])
    error = document["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["detail"]["type"] == "string"
    assert document["components"]["schemas"]["NotificationOut"]["examples"]


# Which well-formed type names exist is the registry's to say, not the schema's: a schema-valid
# body naming an unregistered type is the documented 422.
REGISTRY_DECIDES = {"PUT /api/v1/notifications/preferences"}
# Likewise an email address (`format: email` states its syntax; email-validator also refuses
# special-use domains such as `.test`: a 422) and a link token (only its signature says
# whether it is one: a 400).
CHECKED_BEYOND_SCHEMA = {
    "PUT /api/v1/digest/preferences",
    "GET /api/v1/digest/unsubscribe",
    "POST /api/v1/digest/unsubscribe",
    "GET /api/v1/digest/confirm",
    "POST /api/v1/digest/confirm",
    "GET /api/v1/digest/open",
    "HEAD /api/v1/digest/unsubscribe",
    "HEAD /api/v1/digest/confirm",
    "HEAD /api/v1/digest/open",
    # A push endpoint must name a public push service (SSRF), and the keys be a real P-256 point;
    # an analytics window must run forwards, within 90 days and 1970-9999; a snooze must end in
    # the future, within 30 days.
    "POST /api/v1/push/subscriptions",
    "GET /api/v1/admin/analytics",
    "POST /api/v1/notifications/{notification_id}/snooze",
    # Copy must be one non-blank line naming only the payload's placeholders, for a registered
    # type with no experiment running.
    "POST /api/v1/admin/experiments",
}


def test_api_conforms_to_its_schema(api_schema: BaseSchema, tokens: list[str]) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases every run: CI fails only on a real change
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def conforms(case: Case[Any]) -> None:
            registry = case.operation.label in REGISTRY_DECIDES | CHECKED_BEYOND_SCHEMA
            excluded: list[CheckFunction] = [positive_data_acceptance] if registry else []
            for token in tokens:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded
                )

        try:
            conforms()
        except Exception as error:
            raise AssertionError(f"{operation.label}: {error}") from error


# What an attacker puts in a string, beyond what the schema's own strategies try.
EDGES = [
    "\x00",
    "a\x00b",
    "\x1b[31m\r\n",
    "\x7f",
    "\ud800",  # lone surrogates: JSON escapes carry them, UTF-8 cannot
    "x\udfff",
    "\ud7ff",  # and their neighbours, which are valid
    "\ue000",
    "\ufeff",
    "\U0010ffff",
    "HTTPS://FCM.GOOGLEAPIS.COM/fcm/send/X",
    "Student@EXAMPLE.COM",
    "x@straße.de",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:30:00Z",
    "9999-12-31T23:59:59.999999-23:59",
    "1969-12-31T23:59:59Z",
    "-1",
    "99999999999999999999",
]


def _quoted(value: Any) -> str:
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def _request(
    case: Case[Any], path: dict[str, Any], query: dict[str, Any], body: Any
) -> dict[str, Any]:
    """httpx arguments for this case with these values (any string, surrogates included)."""
    url = case.operation.path
    for name, value in path.items():
        url = url.replace("{" + name + "}", _quoted(value))
    pairs = []
    for name, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append(f"{_quoted(name)}={_quoted(item)}")
    if pairs:
        url += "?" + "&".join(pairs)
    arguments: dict[str, Any] = {"method": case.method, "url": url}
    if body is not None and (case.media_type or "").endswith("json"):
        arguments["content"] = json.dumps(body, ensure_ascii=True).encode()
        arguments["headers"] = {"Content-Type": "application/json"}
    return arguments


def _variants(case: Case[Any], names: dict[str, list[str]]) -> Iterator[dict[str, Any]]:
    """The case's request with one string slot at a time set to each edge value."""
    path = dict(case.path_parameters or {})
    query = dict(case.query or {})
    body = case.body if isinstance(case.body, dict) else None
    for name in names["path"]:
        for edge in EDGES:
            yield _request(case, {**path, name: edge}, query, body)
    for name in names["query"]:
        for edge in EDGES:
            yield _request(case, path, {**query, name: edge}, body)
    if body is not None:
        for key, value in body.items():
            for edge in EDGES:
                yield _request(case, path, query, {**body, key: edge})
            if isinstance(value, dict):
                for inner in value:
                    for edge in EDGES:
                        nested = {**value, inner: edge}
                        yield _request(case, path, query, {**body, key: nested})


def _parameter_names(document: dict[str, Any], case: Case[Any]) -> dict[str, list[str]]:
    operation = document["paths"][case.operation.path][case.method.lower()]
    parameters = operation.get("parameters", [])
    return {
        where: [p["name"] for p in parameters if p["in"] == where] for where in ("path", "query")
    }


def test_edge_strings_in_every_slot_never_give_a_5xx(
    api_server: str, api_schema: BaseSchema, tokens: list[str]
) -> None:
    document = httpx.get(api_server + "/openapi.json").json()
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    failures: list[str] = []
    sent = 0
    with httpx.Client(base_url=api_server, timeout=10) as client:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=2,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def edges(case: Case[Any]) -> None:
                nonlocal sent
                names = _parameter_names(document, case)
                for arguments in _variants(case, names):
                    for token in tokens[:2]:  # a student's, an admin's
                        headers = {
                            **arguments.get("headers", {}),
                            "Authorization": f"Bearer {token}",
                        }
                        response = client.request(**{**arguments, "headers": headers})
                        sent += 1
                        if response.status_code >= 500:
                            failures.append(
                                f"{arguments['method']} {arguments['url'][:120]} "
                                f"{arguments.get('content', b'')[:120]!r}: {response.status_code}"
                            )

            edges()
    assert sent > 1000
    assert not failures, "\n".join(failures[:20])
