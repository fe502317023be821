"""One error hierarchy for the whole product.

Every failure that a user can cause or meet carries a diagnosis: what was wrong, which field,
what is allowed. The CLI turns these into one line on stderr and an exit code, the API into
RFC 9457 problem+json; no layer guesses. Subclasses also derive from the builtin they resemble
(``ValueError``, ``LookupError``) so that callers may catch either.
"""

from __future__ import annotations


class GreenledgerError(Exception):
    """Base class of every error greenledger raises on purpose."""

    #: short machine-readable name, used as the problem ``type`` suffix in the API
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InputError(GreenledgerError, ValueError):
    """Malformed input: wrong type, format or value of a field."""

    code = "invalid-input"


class ConfigError(GreenledgerError):
    """The configuration cannot work (unknown database URL scheme, missing key...)."""

    code = "configuration"


class KeyFileError(GreenledgerError):
    """A key file is missing, unreadable, or its passphrase is wrong."""

    code = "key"


class NotFound(GreenledgerError, LookupError):
    code = "not-found"


class Conflict(GreenledgerError):
    """The request contradicts what is already recorded (duplicate id...)."""

    code = "conflict"


class RuleViolation(GreenledgerError):
    """A domain rule (DESIGN §4) refuses the operation.

    ``rule`` names the rule, ``field`` the input field at fault, ``limit`` what is allowed and
    ``got`` what was asked for, so that the message can say all four.
    """

    code = "rule-violation"

    def __init__(
        self,
        rule: str,
        message: str,
        *,
        field: str | None = None,
        limit: object = None,
        got: object = None,
    ) -> None:
        super().__init__(message, field=field)
        self.rule = rule
        self.limit = limit
        self.got = got

    def __str__(self) -> str:
        parts = [f"[{self.rule}]"]
        if self.field:
            parts.append(f"{self.field}:")
        parts.append(self.message)
        if self.limit is not None or self.got is not None:
            parts.append(f"(allowed: {self.limit}; got: {self.got})")
        return " ".join(parts)


class ProofError(GreenledgerError, ValueError):
    """An inclusion or consistency proof does not verify."""

    code = "proof"


class RootMismatchError(ProofError):
    """A proof is well formed but leads to another root than the one expected."""

    code = "root-mismatch"


class SignatureError(GreenledgerError, ValueError):
    """A signature is missing, malformed or does not verify."""

    code = "signature"


class PermissionDenied(GreenledgerError):
    code = "forbidden"
