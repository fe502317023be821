"""``GET /api/v1/openapi.json`` (OpenAPI 3.1) and ``GET /api/v1/docs`` (a plain page).

flask-openapi3 builds the document from the same pydantic models that validate requests;
this module finishes it with what the views declare elsewhere: which operations need a key
(``security``), the problem responses every operation may give (``application/problem+json``
with the :class:`~api.problems.Problem` schema), the ``text/plain`` body of the cosignature
endpoint, and the response headers (``Location``, ``Link``, ``Retry-After``).
The docs page lists the operations; it loads no script and no style from anywhere.
"""

from __future__ import annotations

import copy
import html
import json
import re
from typing import Any

from flask import Blueprint, Response, current_app

from api.auth import access_of
from api.problems import MEDIA_TYPE, Problem
from api.v1.bodies import takes_text
from api.v1.paths import PREFIX

bp = Blueprint("openapi_doc", __name__, url_prefix=PREFIX)
SCHEME = "apiKey"
#: problems any operation may answer
PROBLEMS = {"400": "malformed request", "401": "missing, malformed, unknown or revoked API key",
            "403": "the key's role may not do this", "404": "no such resource (or not yours)",
            "409": "conflicts with what is recorded", "413": "request body too large",
            "415": "unsupported media type", "422": "invalid input or a domain rule refuses it",
            "429": "too many failed authentication attempts", "500": "the service failed"}
SPEC = "greenledger.openapi"


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def finish(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("ValidationErrorModel", None)
    schemas["Problem"] = Problem.model_json_schema()
    components["securitySchemes"] = {SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "an API key gl_<key_id>_<secret> ('greenledger keys api create')"}}
    views = current_app.view_functions
    for rule in current_app.url_map.iter_rules():
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        item = spec.get("paths", {}).get(path)
        if item is None:
            continue
        view = views.get(rule.endpoint)
        for method in rule.methods or ():
            op = item.get(method.lower())
            if op is None:
                continue
            access = access_of(view)
            if not access.public:
                op["security"] = [{SCHEME: []}]
            elif path.endswith("/log/entries"):
                op["security"] = [{}, {SCHEME: []}]
            if takes_text(view):
                op["requestBody"] = {"required": True, "content": {
                    "text/plain": {"schema": {"type": "string"}}}}
            responses = op.setdefault("responses", {})
            for status, text in PROBLEMS.items():
                responses[status] = _problem_response(text)
            if "501" in responses:
                responses["501"] = _problem_response("issuing declarations is not available")
            for status, response in responses.items():
                if status.startswith("2") and "content" in response:
                    headers = response.setdefault("headers", {})
                    if status == "201":
                        headers["Location"] = {"schema": {"type": "string"},
                                               "description": "URL of the created record"}
                    if op.get("operationId", "").startswith("list_"):
                        headers["Link"] = {"schema": {"type": "string"},
                                           "description": 'the next page, rel="next"'}
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "string"}, "description": "seconds to wait"}
    return spec


def document() -> dict[str, Any]:
    cached: dict[str, Any] | None = current_app.extensions.get(SPEC)
    if cached is None:
        cached = finish(current_app.api_doc)  # type: ignore[attr-defined]
        current_app.extensions[SPEC] = cached
    return cached


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")


@bp.get("/docs")
def docs() -> Response:
    spec = document()
    rows = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method, op in item.items():
            needs = "key" if op.get("security") == [{SCHEME: []}] else "public"
            rows.append(f"<tr><td>{html.escape(method.upper())}</td><td><code>"
                        f"{html.escape(path)}</code></td><td>{needs}</td><td>"
                        f"{html.escape(op.get('summary', ''))}</td></tr>")
    page = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>greenledger API</title></head><body><h1>greenledger API v1</h1>"
            f"<p>OpenAPI 3.1 document: <a href=\"{PREFIX}/openapi.json\">openapi.json</a>. "
            "Errors are RFC 9457 <code>application/problem+json</code>. Authenticate with "
            "<code>Authorization: Bearer gl_...</code>.</p><table><thead><tr><th>method</th>"
            "<th>path</th><th>access</th><th>what</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></body></html>")
    return Response(page, mimetype="text/html")
