"""Dashboard users: tokens issued by a nation's node key, checked by its dashboard.

A token says who the user is (``sub``), which nation they belong to (``nat``: what the
agreements release to them), their role (``viewer`` sees the picture; ``operator`` also
acts on the hotline, as ``auth``, one of the nation's hotline authorities) and when it
expires. It is signed with the Ed25519 key of the nation whose dashboard it opens
(``iss``), the key ``trilink keys new`` wrote; the dashboard checks it against the public
key in ``registry.json``. Nothing secret is in it; it is a bearer credential all the same
(keep it like a password: it is sent only in a header or an HttpOnly cookie).

A user of another nation (a liaison officer: ``nat`` ≠ ``iss``) may view, never operate:
a KOR user cannot act for JPN. Format::

    trilink1.<base64url(JSON claims)>.<base64url(Ed25519 signature of "trilink1.<claims>")>
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature

from trilink.errors import TrilinkError
from trilink.sharing.envelope import KeyRegistry, NodeKey

PREFIX: Final = "trilink1"
MAX_TOKEN_CHARS: Final = 2048
ROLES: Final = ("viewer", "operator")
MAX_TTL_S: Final = 30 * 24 * 3600.0
CLOCK_SKEW_S: Final = 60.0
_NATION = re.compile(r"^[A-Z]{3}$")
_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")


class TokenError(TrilinkError):
    """A token that does not let its bearer in (one line: why)."""


@dataclass(frozen=True)
class User:
    name: str
    nation: str
    role: str
    authority: str | None
    dashboard: str  # the nation whose dashboard the token opens
    expires_unix: float
    token_id: str

    @property
    def may_operate(self) -> bool:
        return self.role == "operator" and self.nation == self.dashboard


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64.match(text):
        raise TokenError("token: not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("token: not base64url") from None


def make_token(key: NodeKey, user: str, nation: str, role: str, now_unix: float,
               ttl_s: float = 12 * 3600.0, authority: str | None = None) -> str:
    """A token for ``user`` of ``nation`` on the dashboard of ``key.nation``."""
    from trilink.hotline.wire import Authority

    if not _USER.match(user):
        raise TokenError(f"--user: expected 1-64 letters, digits or _.@-, got {user!r}")
    if not _NATION.match(nation):
        raise TokenError(f"--user-nation: expected an ISO alpha-3 code, got {nation!r}")
    if role not in ROLES:
        raise TokenError(f"--role: expected one of {', '.join(ROLES)}, got {role!r}")
    if not 0 < ttl_s <= MAX_TTL_S:
        raise TokenError(f"--ttl-s: expected 0 < ttl ≤ {MAX_TTL_S:g} s, got {ttl_s:g}")
    if authority is not None and authority not in {str(a) for a in Authority}:
        raise TokenError(f"--authority: expected one of "
                         f"{', '.join(str(a) for a in Authority)}, got {authority!r}")
    if role == "operator" and nation != key.nation:
        raise TokenError(f"--role: a {nation} user cannot operate {key.nation}'s hotline "
                         "(issue a viewer token)")
    claims = {"v": 1, "iss": key.nation, "kid": key.key_id, "sub": user, "nat": nation,
              "role": role, "auth": authority, "iat": int(now_unix),
              "exp": int(now_unix + ttl_s), "jti": secrets.token_hex(8)}
    body = f"{PREFIX}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{body}.{_b64(key.private_key.sign(body.encode('ascii')))}"


def _claim(claims: dict[str, Any], name: str, kind: type) -> Any:
    value = claims.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TokenError(f"token: claim {name} missing or not a {kind.__name__}")
    return value


def verify_token(token: str, registry: KeyRegistry, dashboard: str, now_unix: float) -> User:
    """The user ``token`` lets in on ``dashboard``'s dashboard, or :class:`TokenError`."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise TokenError("token: missing or too long")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError(f"token: expected {PREFIX}.<claims>.<signature>")
    raw, sig = _unb64(parts[1]), _unb64(parts[2])
    try:
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise TokenError("token: claims are not JSON") from None
    if not isinstance(claims, dict) or claims.get("v") != 1:
        raise TokenError("token: claims of an unknown version")
    iss = _claim(claims, "iss", str)
    if iss != dashboard:
        raise TokenError(f"token: issued for the {iss!r} dashboard, this is {dashboard}'s")
    kid = _claim(claims, "kid", str)
    public = registry.get(iss, kid)
    if public is None:
        raise TokenError(f"token: signed by an unknown key {kid!r}")
    try:
        public.verify(sig, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise TokenError("token: bad signature") from None
    sub, nat, role = _claim(claims, "sub", str), _claim(claims, "nat", str), \
        _claim(claims, "role", str)
    iat, exp = _claim(claims, "iat", int), _claim(claims, "exp", int)
    auth = claims.get("auth")
    if not _USER.match(sub) or not _NATION.match(nat) or role not in ROLES:
        raise TokenError("token: malformed user, nation or role")
    if auth is not None and not isinstance(auth, str):
        raise TokenError("token: malformed authority")
    if iat > now_unix + CLOCK_SKEW_S:
        raise TokenError("token: issued in the future")
    if exp <= now_unix:
        raise TokenError("token: expired")
    if exp - iat > MAX_TTL_S:
        raise TokenError("token: valid for too long")
    jti = claims.get("jti")
    return User(sub, nat, role, auth, iss, float(exp), jti if isinstance(jti, str) else "")
