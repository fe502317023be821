"""A load client of the multi-host run: one process, one API key, writes through every server.

Each write is a POST with an ``Idempotency-Key`` of its own, sent to a random server. On a
connection error, a timeout, a 5xx or a 429 the *same* request (same key, same body) goes to
the next server after a short back-off, until it gets an answer or ``give_up_s`` passes. A 2xx
is an acknowledged write, a 4xx a refused one (the domain's rules: the workload is contended on
purpose).

*Lost responses.* A fraction of writes (``lost_responses``) stop listening a few milliseconds
after sending their first attempt, as a client whose connection breaks after the request went
out: the server goes on and usually commits, and the retry with the same key must get that
first result back (``Idempotent-Replayed: true``), never a second entry. Declarations are left
out unless ``lose_declarations``: they record their key only after their own transaction
(``api/v1/writing.py``), so a retry sent while the first attempt still runs issues again.

Every request carries a *tag* the checker finds in the log: the id the client chose (batch,
allocation, shipment), the evidence reference of a certificate, or ``decl:<shipment>`` for a
declaration (each acknowledged shipment is declared at most once). One JSON line per write goes
to the client's output file as soon as the write is settled, so a crash loses nothing already
counted.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: op -> weight; declarations only when an acknowledged shipment waits for one
WEIGHTS = {"certificate": 12, "batch": 8, "allocation": 45, "shipment": 25, "declaration": 10}
REGISTRATION_SLOTS = 20
LOT_SLOTS = 40


@dataclass(frozen=True)
class ClientConfig:
    index: int
    urls: list[str]
    api_key: str
    run_id: str
    #: wall-clock start (time.time()) and how long to keep starting new writes
    start: float
    seconds: float
    pool: dict[str, Any]
    out: str
    seed: int
    give_up_s: float = 60.0
    timeout_s: float = 30.0
    day: str = ""
    lost_responses: float = 0.0
    lose_declarations: bool = False


def run_client(config: ClientConfig) -> None:
    """Process entry point (multiprocessing, spawn)."""
    Client(config).run()


class Client:
    def __init__(self, config: ClientConfig) -> None:
        self.c = config
        self.rng = Random(config.seed)
        self.http = requests.Session()
        self.count = 0
        self.undeclared: list[str] = []
        self.out = Path(config.out).open("a", encoding="utf-8")  # noqa: SIM115 - closed in run

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            while time.time() < self.c.start + self.c.seconds:
                op = self.pick()
                path, body, tag = getattr(self, op)()
                self.write(op, path, body, tag)
        finally:
            self.out.close()
            self.http.close()

    def pick(self) -> str:
        ops = [op for op in WEIGHTS if op != "declaration" or self.undeclared]
        return self.rng.choices(ops, weights=[WEIGHTS[op] for op in ops])[0]

    def tag(self, op: str) -> str:
        self.count += 1
        return f"mh-{self.c.run_id}-c{self.c.index}-{self.count:05d}-{op[:4]}"

    def epoch(self) -> tuple[int, dict[str, Any]]:
        """The current epoch's index and its hot certificates and batches."""
        epochs = self.c.pool["epochs"]
        now = int((time.time() - self.c.start) // self.c.pool["epoch_seconds"])
        index = max(0, min(now, len(epochs) - 1))
        return index, epochs[index]

    # --- the writes (path, body, tag) ---------------------------------------------------

    def certificate(self) -> tuple[str, dict[str, Any], str]:
        """A new range in a small shared code space: neighbours overlap (unique-serial)."""
        tag = self.tag("certificate")
        slot = self.epoch()[0] * REGISTRATION_SLOTS + self.rng.randrange(REGISTRATION_SLOTS)
        first_no, count = slot * 100 + self.rng.randint(1, 50), self.rng.randint(20, 120)
        block = self.c.pool["registration_block"]
        body = {"registry": "CN-GEC", "first": f"{block}{first_no:015d}",
                "last": f"{block}{first_no + count - 1:015d}", "mwh": str(count),
                "technology": "hydro", "plant": self.c.pool["plant"], "plant_province": "CN-YN",
                "country": "CN", "generation_month": self.c.pool["month"], "tradable": False,
                "evidence": {"ref": tag, "sha256": hashlib.sha256(tag.encode()).hexdigest()}}
        return "/api/v1/certificates", body, tag

    def batch(self) -> tuple[str, dict[str, Any], str]:
        """A new batch whose lot other clients may take first (409 on the lot)."""
        tag = self.tag("batch")
        lot = f"mh-{self.c.run_id}-lot-{self.epoch()[0]}-{self.rng.randrange(LOT_SLOTS)}"
        body = {"batch": tag, "lot": lot, "facility": self.c.pool["facility"],
                "product": "primary aluminium ingot 电解铝锭 Al99.70", "metal": "Al",
                "cn_code": "76011000", "tonnes": str(self.rng.randint(50, 150)),
                "period_start": self.c.pool["period_start"],
                "period_end": self.c.pool["period_end"],
                "electricity_mwh": str(self.rng.randint(600, 1800))}
        return "/api/v1/batches", body, tag

    def allocation(self) -> tuple[str, dict[str, Any], str]:
        """A random sub-range of a hot certificate to a hot batch: often already taken."""
        tag = self.tag("allocation")
        _, epoch = self.epoch()
        cert, batch = self.rng.choice(epoch["certificates"]), self.rng.choice(epoch["batches"])
        count = self.rng.randint(1, 40)
        first = self.rng.randint(cert["first_no"], cert["last_no"] - count + 1)
        block = cert["block"]
        body = {"allocation": tag, "certificate": cert["id"], "first": f"{block}{first:015d}",
                "last": f"{block}{first + count - 1:015d}", "mwh": str(count),
                "batch": batch["id"]}
        return "/api/v1/allocations", body, tag

    def shipment(self) -> tuple[str, dict[str, Any], str]:
        """Tonnes from one or two hot batches: together the clients ask for more than made."""
        tag = self.tag("shipment")
        batches = self.rng.sample(self.epoch()[1]["batches"], self.rng.choice((1, 1, 2)))
        body = {"shipment": tag, "buyer": self.c.pool["buyer"], "date": self.c.day,
                "destination_country": "CN",
                "lines": [{"batch": b["id"], "tonnes": str(self.rng.randint(4, 24))}
                          for b in batches]}
        return "/api/v1/shipments", body, tag

    def declaration(self) -> tuple[str, dict[str, Any], str]:
        shipment = self.undeclared.pop(self.rng.randrange(len(self.undeclared)))
        return "/api/v1/declarations", {"shipment": shipment}, f"decl:{shipment}"

    # --- one write, retried with the same key ---------------------------------------------

    def write(self, op: str, path: str, body: dict[str, Any], tag: str) -> dict[str, Any]:
        key = uuid.uuid4().hex
        headers = {"Authorization": f"Bearer {self.c.api_key}", "Idempotency-Key": key}
        server = self.rng.randrange(len(self.c.urls))
        attempts: list[dict[str, Any]] = []
        give_up = time.monotonic() + self.c.give_up_s
        response = None
        lose = (op != "declaration" or self.c.lose_declarations) \
            and self.rng.random() < self.c.lost_responses
        while True:
            started = time.perf_counter()
            timeout = (self.c.timeout_s, self.rng.uniform(0.002, 0.03)) if lose else self.c.timeout_s
            try:
                r = self.http.post(self.c.urls[server] + path, json=body, headers=headers,
                                   timeout=timeout)
            except requests.RequestException as exc:
                attempts.append({"server": server, "error": type(exc).__name__,
                                 "ms": (time.perf_counter() - started) * 1e3, "lost": lose})
            else:
                attempts.append({"server": server, "status": r.status_code,
                                 "ms": (time.perf_counter() - started) * 1e3})
                if r.status_code not in RETRY_STATUSES:
                    response = r
                    break
            if time.monotonic() > give_up:
                break
            lose = False
            time.sleep(min(2.0, 0.1 * 2 ** min(len(attempts), 5)) * (0.5 + self.rng.random()))
            server = (server + 1) % len(self.c.urls)
        record = self.settle(op, tag, key, attempts, response)
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()
        return record

    def settle(self, op: str, tag: str, key: str, attempts: list[dict[str, Any]],
               response: requests.Response | None) -> dict[str, Any]:
        record: dict[str, Any] = {"client": self.c.index, "op": op, "tag": tag, "key": key,
                                  "attempts": attempts, "at": time.time()}
        if response is None:
            record["outcome"] = "unresolved"
            return record
        record["status"] = response.status_code
        record["replayed"] = response.headers.get("Idempotent-Replayed") == "true"
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if 200 <= response.status_code < 300:
            record |= {"outcome": "acked", "seq": answer.get("seq"), "id": answer.get("id")}
            if op == "shipment":
                self.undeclared.append(tag)
        else:
            record |= {"outcome": "rejected",
                       "rule": answer.get("rule") or str(answer.get("type", "")).rsplit(":", 1)[-1]}
        return record
