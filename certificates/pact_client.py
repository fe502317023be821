"""A PACT v3 client (Tech Specs 3.0.3): token, ListFootprints with pagination, GetFootprint,
and posting CloudEvents to ``/3/events``.

- Token: ``{base}/.well-known/openid-configuration``'s ``token_endpoint`` when the host
  offers one, else ``{base}/auth/token`` (spec v3 index.md §Obtaining an Access Token); OAuth2
  client credentials with HTTP Basic (RFC 6749 §2.3.1, §4.4). Plain ``requests``: authlib's
  OAuth2Session would add a dependency path without adding anything the ~20 lines below do not.
  The token is kept until shortly before ``expires_in`` runs out, and fetched again when the
  host answers 401 (``TokenExpired`` or an invalid token) — once per request.
- Retries: connection errors, timeouts, 429 and 5xx are retried with a randomized exponential
  back-off (spec §Pagination: "SHOULD use a randomized exponential back-off"), honouring
  ``Retry-After``; 4xx other than 401/429 are answers, not retried.
- Pagination: ``Link: <...>; rel="next"`` (RFC 8288) is followed while present; the link must
  stay on the host's own origin (scheme, host and port of the base URL), so a supplier cannot
  point this client at another server with our token.
- Nothing secret is logged or put in an exception message.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from ledger.errors import GreenledgerError

log = logging.getLogger("greenledger.pact.client")

USER_AGENT = "greenledger-pact-client/1"
EVENT_MEDIA_TYPE = "application/cloudevents+json; charset=UTF-8"
_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PactClientError(GreenledgerError):
    """The host could not be used: refused credentials, a non-PACT answer, retries exhausted."""

    code = "pact-client"


def next_link(header: str | None) -> str | None:
    """The target of the ``rel="next"`` link in an RFC 8288 ``Link`` header, if any."""
    if not header:
        return None
    for m in _LINK.finditer(header):
        params = m.group(2) or ""
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return m.group(1).strip()
    return None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


@dataclass
class PactClient:
    """A client for one PACT host. ``verify`` is ``requests``' TLS trust (a CA file path for
    a self-signed host, else True)."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    verify: str | bool = True
    timeout: float = 10.0
    attempts: int = 5
    backoff: float = 0.5
    max_delay: float = 30.0
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    sleep: Callable[[float], None] = time.sleep
    _token: str | None = field(default=None, repr=False)
    _token_until: float = 0.0
    _token_url: str | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if urlsplit(self.base_url).scheme != "https":
            raise PactClientError(f"PACT hosts are reached over HTTPS only, not {self.base_url!r}")
        self.session.headers.setdefault("User-Agent", USER_AGENT)

    @classmethod
    def for_peer(cls, peer: Any, **kw: Any) -> PactClient:
        return cls(peer.url, peer.client_id, peer.client_secret, verify=peer.verify, **kw)

    # --- plumbing -----------------------------------------------------------------------

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                return min(float(retry_after), self.max_delay)
        return min(self.max_delay, self.backoff * (2 ** attempt) * random.uniform(0.5, 1.5))  # noqa: S311

    def _raw(self, method: str, url: str, **kw: Any) -> requests.Response:
        """One request with retries on transport errors, 429 and 5xx (no auth handling)."""
        last: str = ""
        for attempt in range(self.attempts):
            response = None
            try:
                response = self.session.request(method, url, timeout=self.timeout,
                                                verify=self.verify, allow_redirects=False, **kw)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}"
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                last = f"HTTP {response.status_code}"
            if attempt + 1 < self.attempts:
                delay = self._delay(attempt, response)
                log.info("PACT %s %s: %s; retrying in %.1f s", method, _path(url), last, delay)
                self.sleep(delay)
        raise PactClientError(f"{method} {_path(url)} on {self.base_url} failed after "
                              f"{self.attempts} attempts ({last})")

    def token_url(self) -> str:
        if self._token_url is None:
            found = None
            try:
                r = self._raw("GET", f"{self.base_url}/.well-known/openid-configuration",
                              headers={"Accept": "application/json"})
                if r.status_code == 200:
                    endpoint = r.json().get("token_endpoint")
                    if isinstance(endpoint, str) and urlsplit(endpoint).scheme == "https":
                        found = endpoint
            except (PactClientError, ValueError, AttributeError):
                found = None
            self._token_url = found or f"{self.base_url}/auth/token"
        return self._token_url

    def token(self, *, renew: bool = False) -> str:
        if not renew and self._token and time.monotonic() < self._token_until:
            return self._token
        auth = (quote(self.client_id, safe=""), quote(self.client_secret, safe=""))
        r = self._raw("POST", self.token_url(), auth=auth,
                      data={"grant_type": "client_credentials"},
                      headers={"Accept": "application/json"})
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200 or not isinstance(body.get("access_token"), str):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise PactClientError(f"{self.base_url} refused our client credentials "
                                  f"(HTTP {r.status_code}{', ' + str(error) if error else ''})")
        lifetime = body.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, int | float) else 300.0
        self._token = body["access_token"]
        self._token_until = time.monotonic() + max(0.0, lifetime - min(30.0, lifetime / 10))
        return self._token

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        """An authenticated request; on 401 the token is renewed once and the request sent
        again."""
        headers = dict(kw.pop("headers", {}) or {})
        for renewed in (False, True):
            headers["Authorization"] = f"Bearer {self.token(renew=renewed)}"
            r = self._raw(method, url, headers=headers, **kw)
            if r.status_code != 401:
                return r
            code = _code(r)
            log.info("PACT %s %s: 401 %s; %s", method, _path(url), code or "",
                     "renewing the token" if not renewed else "giving up")
        raise PactClientError(f"{self.base_url} refused a fresh access token for {_path(url)}")

    # --- actions --------------------------------------------------------------------------

    def list_footprints(self, criteria: Mapping[str, str | Sequence[str]] | None = None,
                        *, limit: int | None = None, max_pages: int = 10_000) -> Iterator[dict]:
        """Every footprint the host lists for us (ListFootprints), page after page."""
        params: list[tuple[str, str]] = []
        for name, value in (criteria or {}).items():
            for v in ([value] if isinstance(value, str) else list(value)):
                params.append((name, v))
        if limit is not None:
            params.append(("limit", str(limit)))
        url: str | None = f"{self.base_url}/3/footprints" + (f"?{urlencode(params)}" if params else "")
        origin = _origin(self.base_url)
        pages = 0
        while url is not None:
            pages += 1
            if pages > max_pages:
                raise PactClientError(f"{self.base_url} kept sending next links ({max_pages} pages)")
            r = self.request("GET", url, headers={"Accept": "application/json"})
            if r.status_code not in (200, 202):
                raise PactClientError(f"ListFootprints on {self.base_url}: HTTP {r.status_code} "
                                      f"{_code(r) or ''}".rstrip())
            data = _json(r).get("data")
            if not isinstance(data, list):
                raise PactClientError(f"ListFootprints on {self.base_url}: no data list")
            yield from data
            url = next_link(r.headers.get("Link"))
            if url is not None and _origin(url) != origin:
                raise PactClientError(f"{self.base_url} sent a next link to another origin")

    def get_footprint(self, footprint_id: str) -> dict | None:
        """GetFootprint: the footprint, or None when the host says 404."""
        r = self.request("GET", f"{self.base_url}/3/footprints/{quote(footprint_id, safe='')}",
                         headers={"Accept": "application/json"})
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise PactClientError(f"GetFootprint {footprint_id} on {self.base_url}: HTTP "
                                  f"{r.status_code} {_code(r) or ''}".rstrip())
        data = _json(r).get("data")
        if not isinstance(data, dict):
            raise PactClientError(f"GetFootprint {footprint_id} on {self.base_url}: no data object")
        return data

    def post_event(self, event: Mapping[str, Any]) -> None:
        """POST a CloudEvent (structured mode) to the host's Action Events."""
        import json

        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        r = self.request("POST", f"{self.base_url}/3/events", data=body,
                         headers={"Content-Type": EVENT_MEDIA_TYPE})
        if not 200 <= r.status_code < 300:
            raise PactClientError(f"{self.base_url} did not accept the {event.get('type')} event: "
                                  f"HTTP {r.status_code} {_code(r) or ''}".rstrip())


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _json(r: requests.Response) -> dict:
    try:
        body = r.json()
    except ValueError as exc:
        raise PactClientError(f"{_path(r.url)}: the answer is not JSON") from exc
    if not isinstance(body, dict):
        raise PactClientError(f"{_path(r.url)}: the answer is not a JSON object")
    return body


def _code(r: requests.Response) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) and isinstance(body.get("code"), str) else None
