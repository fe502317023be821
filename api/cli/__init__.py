"""The ``greenledger`` command line (DESIGN §9 lists the stable commands).

Exit codes everywhere: 0 ok, 1 an audit finding or a failed check, 2 a usage or input error
(with a one-line reason on stderr). Errors are values with a diagnosis
(:mod:`ledger.errors`); this module only maps them to that contract.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.exc import OperationalError

from ledger.errors import GreenledgerError

F = TypeVar("F", bound=Callable[..., Any])


class Failed(click.exceptions.Exit):
    """A check ran and failed: exit 1 (the details were already printed)."""

    def __init__(self) -> None:
        super().__init__(1)


def fail_on_error(func: F) -> F:
    """Turn a GreenledgerError into one line on stderr and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GreenledgerError as exc:
            click.echo(f"greenledger: error: {exc}", err=True)
            sys.exit(2)
        except OperationalError as exc:  # the database is unreachable, locked or not ours
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            click.echo(f"greenledger: error: database: {reason}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="greenledger")
def main() -> None:
    """greenledger: green-power certificates, batch footprints and signed declarations on a
    verifiable log."""


from api.cli import (  # noqa: E402
    cbam_cmd,
    declare_cmd,
    keys_cmd,
    log_cmd,
    pact_cmd,
    registry_cmd,
    report_cmd,
    rotate_cmd,
    service_cmd,
    setup_cmd,
)

for module in (setup_cmd, keys_cmd, log_cmd, registry_cmd, declare_cmd, rotate_cmd, service_cmd,
               cbam_cmd, report_cmd, pact_cmd):
    module.register(main)
