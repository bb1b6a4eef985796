"""The NATS-side defence: who may connect, and what each may publish and read.

Signed envelopes, relay stamps and signed operator control (:mod:`trilink.sharing.envelope`,
:mod:`trilink.live.auth`) make forgeries detectable; this module keeps them off the wire.
It writes a ``nats-server`` configuration in which every client authenticates with an
**nkey** (Ed25519: the server keeps only public keys and checks a signature over a fresh
nonce) and is one *user* with subject permissions fixed by its nation and role:

- ``node`` — a nation's node. Publishes only its own outgoing envelopes
  (``trilink.<ME>.<PARTNER>.p0|p1``), its CAP messages and its picture; reads only its
  control subject, its own sensors and, through JetStream, only what partners addressed to
  it: it may create a consumer on a partner's outbox only under its own durable name
  (``<ME>_from_<PARTNER>_p<P>``) with the filter ``trilink.<PARTNER>.<ME>.p<P>`` pinned in
  the API subject (the server refuses a body whose filter differs). Replies to control
  requests through ``allow_responses`` (only to the reply subject of a request it got).
- ``sensor`` — one feed of one nation: publishes on ``trilink.sensor.<NATION>.<ID>`` (or
  any of its nation's sensors), reads nothing but its own inbox (the server's "no
  responders" answer to a feed's probe after an outage).
- ``dashboard`` — reads its nation's picture stream ``PICTURE_<NATION>`` and nothing else
  (also right for the CoT sender, which reads the same picture).
- ``operator`` — sends control requests to its own nation's node (which checks the
  request's signature and role on top) and, in replays, sets its node's scenario clock.
- ``admin`` — creates its nation's streams (``OUTBOX_<NATION>``, ``PICTURE_<NATION>``).
  Nodes and dashboards may not create streams: a stream's subjects are in the request body,
  which permissions cannot see, so a node that could create its outbox could make it
  capture every subject.
- ``link`` — one server per nation (:func:`nation_server_config`): each nation's server
  is its own JetStream domain; the spokes' servers dial the hub's as leaf nodes (a star:
  NATS refuses cyclic leaf links), each as its ``link`` user, which may carry only
  reads of outboxes by the nodes they are addressed to and the answers. A spoke takes
  and gives nothing on a ``trilink.`` subject over its link (:data:`LINK_DENY`).

Every user gets its own inbox prefix (:func:`inbox_prefix`): replies and pull deliveries
go to ``_INBOX_<USER>.…``, which only that user may subscribe to (with the default
``_INBOX.>`` any client could read everyone's replies, JetStream deliveries included).
A client without a known nkey is refused at connect.

Pure: :func:`permissions` and :func:`server_config` compute; :func:`write_credentials`,
:func:`write_server_config` and :func:`client_options` touch files only. Private seeds are
written mode 0600 under ``DIR/<NATION>/`` (that folder goes to that nation only) and
never printed; ``DIR/users.json`` holds public keys only. See ``docs/deployment.md``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from trilink.errors import TrilinkError

# Subject layout: the same strings as trilink.bus.nats, trilink.live.{client,feed,node,
# launch} and trilink.web.publish (tests/test_nats_permissions.py checks they agree).
ENVELOPE_PREFIX: Final = "trilink"  # trilink.<sender>.<recipient>.p<priority>
PRIORITIES: Final = (0, 1)
CONTROL_PREFIX: Final = "trilink.ctl"
SENSOR_PREFIX: Final = "trilink.sensor"
CAP_PREFIX: Final = "trilink.cap"
PICTURE_PREFIX: Final = "trilink.picture"
CLOCK_PREFIX: Final = "trilink.live.clock"
JS_API: Final = "$JS.API"

ROLE_NODE: Final = "node"
ROLE_SENSOR: Final = "sensor"
ROLE_DASHBOARD: Final = "dashboard"
ROLE_OPERATOR: Final = "operator"
ROLE_ADMIN: Final = "admin"
ROLE_LINK: Final = "link"  # a nation's server, dialing the hub's server as a leaf node
ROLES: Final = (ROLE_NODE, ROLE_SENSOR, ROLE_DASHBOARD, ROLE_OPERATOR, ROLE_ADMIN, ROLE_LINK)

ACCOUNT: Final = "TRILINK"
USERS_FILE: Final = "users.json"
USERS_SCHEMA: Final = 1
_NATION = re.compile(r"^[A-Z]{3}$")
_SENSOR = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as trilink.live.feed checks sensor ids
_USER_NKEY = re.compile(r"^U[A-Z2-7]{55}$")


class NatsConfError(TrilinkError, ValueError):
    """Bad input for a NATS configuration (one line: which value and what was expected)."""


# ------------------------------------------------------------------ subjects


def envelope_subject(sender: str, recipient: str, priority: int) -> str:
    return f"{ENVELOPE_PREFIX}.{sender}.{recipient}.p{priority}"


def control_subject(nation: str) -> str:
    return f"{CONTROL_PREFIX}.{nation}"


def sensor_subject(nation: str, sensor_id: str) -> str:
    return f"{SENSOR_PREFIX}.{nation}.{sensor_id}"


def nation_sensors_subject(nation: str) -> str:
    return f"{SENSOR_PREFIX}.{nation}.*"


def cap_subject(nation: str) -> str:
    return f"{CAP_PREFIX}.{nation}"


def picture_subject(nation: str) -> str:
    return f"{PICTURE_PREFIX}.{nation}"


def clock_subject(nation: str) -> str:
    return f"{CLOCK_PREFIX}.{nation}"


def outbox_stream(nation: str) -> str:
    return f"OUTBOX_{nation}"


def picture_stream(nation: str) -> str:
    return f"PICTURE_{nation}"


def durable_name(recipient: str, sender: str, priority: int) -> str:
    """The pull consumer ``recipient`` reads ``sender``'s outbox with (as the bus names it)."""
    return f"{recipient}_from_{sender}_p{priority}"


def user_name(nation: str, role: str, sensor_id: str | None = None) -> str:
    """``KOR_node``, ``KOR_sensor`` (any of KOR's sensors) or ``KOR_sensor_<ID>``."""
    check_nation(nation)
    if role not in ROLES:
        raise NatsConfError(f"role: {role!r} (expected one of {', '.join(ROLES)})")
    if sensor_id is None:
        return f"{nation}_{role}"
    if role != ROLE_SENSOR:
        raise NatsConfError(f"sensor_id: only a {ROLE_SENSOR} user names a sensor, not {role}")
    if not _SENSOR.match(sensor_id):
        raise NatsConfError(f"sensor_id: {sensor_id!r} (expected 1-64 of A-Z a-z 0-9 _ -)")
    return f"{nation}_{role}_{sensor_id}"


def inbox_prefix(user: str) -> str:
    """The user's own inbox prefix: replies to it go to ``_INBOX_<USER>.<id>``."""
    return f"_INBOX_{user}"


def check_nation(nation: str) -> str:
    if not isinstance(nation, str) or not _NATION.match(nation):
        raise NatsConfError(f"nation: {nation!r} (expected three capital letters)")
    return nation


# ------------------------------------------------------------------ permissions


@dataclasses.dataclass(frozen=True)
class Permissions:
    """What one user may do: subjects it may publish on and subscribe to (nothing else);
    ``allow_responses``: it may also answer, once, a request it received."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False

    def as_conf(self) -> dict[str, Any]:
        # An empty allow list would mean "no restriction": deny everything instead.
        out: dict[str, Any] = {
            "publish": {"allow": list(self.publish)} if self.publish else {"deny": [">"]},
            "subscribe": ({"allow": list(self.subscribe)} if self.subscribe
                          else {"deny": [">"]}),
        }
        if self.allow_responses:
            out["allow_responses"] = {"max": 1, "expires": "1m"}
        return out


def js_api(owner: str, caller: str, domains: bool) -> str:
    """The API prefix ``caller`` reaches ``owner``'s JetStream with: ``$JS.API`` on one
    shared server or its own; ``$JS.<OWNER>.API`` when each nation's server is its own
    JetStream domain (one server per nation, joined by leaf nodes)."""
    return f"$JS.{owner}.API" if domains and owner != caller else JS_API


def _node(nation: str, partners: Sequence[str], user: str, domains: bool) -> Permissions:
    js = JS_API
    pub = [envelope_subject(nation, p, prio) for p in partners for prio in PRIORITIES]
    pub += [cap_subject(nation), picture_subject(nation),
            f"{js}.STREAM.INFO.{outbox_stream(nation)}",
            f"{js}.STREAM.INFO.{picture_stream(nation)}"]
    for p in partners:
        pub += _reader(nation, p, js_api(p, nation, domains))
    sub = [control_subject(nation), nation_sensors_subject(nation), clock_subject(nation),
           f"{inbox_prefix(user)}.>"]
    return Permissions(tuple(pub), tuple(sub), allow_responses=True)


def _reader(reader: str, sender: str, api: str) -> list[str]:
    """What ``reader``'s node sends to read ``sender``'s outbox, with API prefix ``api``."""
    stream = outbox_stream(sender)
    out = [f"{api}.STREAM.INFO.{stream}"]
    for prio in PRIORITIES:
        d = durable_name(reader, sender, prio)
        # The filter is part of the subject (server >= 2.9 checks it against the body):
        # this consumer can only ever see what the sender addressed to the reader.
        out += [f"{api}.CONSUMER.CREATE.{stream}.{d}.{envelope_subject(sender, reader, prio)}",
                f"{api}.CONSUMER.INFO.{stream}.{d}", f"{api}.CONSUMER.MSG.NEXT.{stream}.{d}",
                f"$JS.ACK.{stream}.{d}.>"]
    return out


def _link(spoke: str, partners: Sequence[str]) -> Permissions:
    """On the hub's server, the leaf connection of ``spoke``'s server. Its publish list is
    what may come in from the spoke: its node's reads of partners' outboxes and what its
    JetStream answers partners' nodes; its subscribe list is what may go out to the
    spoke: partners' reads of its outbox and its node's answers. A spoke server that
    widened its own users' permissions still gets no further than this."""
    pub: list[str] = []
    sub: list[str] = []
    for p in partners:
        pub += _reader(spoke, p, f"$JS.{p}.API")
        pub.append(f"{inbox_prefix(user_name(p, ROLE_NODE))}.>")
        sub += _reader(p, spoke, f"$JS.{spoke}.API")
    sub.append(f"{inbox_prefix(user_name(spoke, ROLE_NODE))}.>")
    # Replies across a JetStream domain mapping go to server-made random `_R_.` subjects.
    return Permissions((*dict.fromkeys(pub), "_R_.>"), (*dict.fromkeys(sub), "_R_.>"))


def _dashboard(nation: str, user: str) -> Permissions:
    stream = picture_stream(nation)
    # Any consumer on this stream sees only this nation's picture (its one subject).
    pub = (f"{JS_API}.STREAM.INFO.{stream}", f"{JS_API}.CONSUMER.CREATE.{stream}",
           f"{JS_API}.CONSUMER.CREATE.{stream}.>", f"{JS_API}.CONSUMER.INFO.{stream}.*",
           f"$JS.FC.{stream}.>")  # flow-control replies of ordered consumers
    return Permissions(pub, (f"{inbox_prefix(user)}.>",))


def _admin(nation: str, user: str) -> Permissions:
    pub = [f"{JS_API}.INFO"]
    for stream in (outbox_stream(nation), picture_stream(nation)):
        pub += [f"{JS_API}.STREAM.{op}.{stream}"
                for op in ("CREATE", "UPDATE", "INFO", "DELETE", "PURGE")]
        pub += [f"{JS_API}.CONSUMER.{op}.{stream}" for op in ("LIST", "NAMES")]
        pub += [f"{JS_API}.CONSUMER.{op}.{stream}.*" for op in ("INFO", "DELETE")]
    return Permissions(tuple(pub), (f"{inbox_prefix(user)}.>",))


def permissions(nation: str, role: str, nations: Iterable[str],
                sensor_id: str | None = None, *, domains: bool = False) -> Permissions:
    """The permissions of ``nation``'s ``role`` user in a federation of ``nations``;
    ``domains``: one server per nation, each its own JetStream domain (:func:`js_api`).

    A node may address every other nation of the federation: routing and releasability
    under the agreements in force are the nodes' decisions (sender filter, receiver
    check), and audit checkpoints go to every partner whatever the agreements say."""
    user = user_name(nation, role, sensor_id)
    everyone = sorted({check_nation(n) for n in nations} | {nation})
    partners = [n for n in everyone if n != nation]
    if role == ROLE_NODE:
        return _node(nation, partners, user, domains)
    if role == ROLE_LINK:
        return _link(nation, partners)
    if role == ROLE_SENSOR:
        subject = (nation_sensors_subject(nation) if sensor_id is None
                   else sensor_subject(nation, sensor_id))
        # Its own inbox only: a feed back from an outage asks "is a node listening?"
        # (:class:`trilink.live.client.SensorFeed`) and the server answers there.
        return Permissions((subject,), (f"{inbox_prefix(user)}.>",))
    if role == ROLE_DASHBOARD:
        return _dashboard(nation, user)
    if role == ROLE_OPERATOR:
        return Permissions((control_subject(nation), clock_subject(nation)),
                           (f"{inbox_prefix(user)}.>",))
    return _admin(nation, user)


# ------------------------------------------------------------------ users and config


@dataclasses.dataclass(frozen=True)
class NatsUser:
    """One client identity: its public nkey (``U…``) and what it is."""

    nation: str
    role: str
    nkey: str
    sensor_id: str | None = None

    @property
    def name(self) -> str:
        return user_name(self.nation, self.role, self.sensor_id)

    def __post_init__(self) -> None:
        user_name(self.nation, self.role, self.sensor_id)  # checks all three
        if not isinstance(self.nkey, str) or not _USER_NKEY.match(self.nkey):
            raise NatsConfError(f"{self.nation} {self.role}: nkey {self.nkey!r} is not a "
                                "public user nkey (U followed by 55 base32 characters)")


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """Server certificate and key; with ``ca_file`` and ``verify`` clients must present
    a certificate signed by that CA as well (mutual TLS)."""

    cert_file: str
    key_file: str
    ca_file: str | None = None
    verify: bool = False


@dataclasses.dataclass(frozen=True)
class LeafLinks:
    """The leaf-node links of one nation's server in a hub-and-spoke federation.

    The hub's server sets ``port`` (it accepts the spokes' servers there, each as its
    ``link`` user); a spoke's server sets ``hub_url`` and ``seed`` (its link user's seed,
    so that configuration file is as secret as a key file). ``tls``: the link's TLS."""

    port: int | None = None
    hub_url: str | None = None
    seed: str | None = None
    tls: TlsFiles | None = None


# Nothing on a trilink subject ever crosses a link: envelopes are pulled through the
# JetStream API into inboxes; control, sensors, CAP and pictures stay in their nation.
LINK_DENY: Final = ("trilink.>",)


def _tls(t: TlsFiles) -> dict[str, Any]:
    out: dict[str, Any] = {"cert_file": t.cert_file, "key_file": t.key_file}
    if t.ca_file is not None:
        out["ca_file"] = t.ca_file
    if t.verify:
        out["verify"] = True
    return out


def server_config(users: Sequence[NatsUser], nations: Iterable[str], *, store_dir: Path | str,
                  host: str = "127.0.0.1", port: int = 4222, server_name: str | None = None,
                  domain: str | None = None, tls: TlsFiles | None = None,
                  leaf: LeafLinks | None = None, account: str = ACCOUNT) -> str:
    """A ``nats-server`` configuration (JSON, which nats-server reads) with JetStream on,
    one account holding ``users`` with :func:`permissions`, and no anonymous access.

    ``domain`` (one server per nation: the nation's code) makes this server its own
    JetStream domain, and node permissions reach partners' streams through their
    domains' API; ``leaf`` joins it to the other nations' servers."""
    everyone = tuple(sorted({check_nation(n) for n in nations}))
    names = [u.name for u in users]
    if not users:
        raise NatsConfError("users: none given; a server nobody may use is a mistake")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise NatsConfError(f"users: {dup} appears twice")
    stray = sorted({u.nation for u in users} - set(everyone))
    if stray:
        raise NatsConfError(f"users: nation {stray[0]} is not one of {', '.join(everyone)}")
    if not 0 < port < 65536:
        raise NatsConfError(f"port: {port} (expected 1-65535)")
    domains = domain is not None
    entries = [{"nkey": u.nkey,
                "permissions": permissions(u.nation, u.role, everyone, u.sensor_id,
                                           domains=domains).as_conf()}
               # A link key serves only as a server's leaf connection, never as a client.
               | ({"allowed_connection_types": ["LEAFNODE"]} if u.role == ROLE_LINK else {})
               for u in sorted(users, key=lambda u: u.name)]
    js: dict[str, Any] = {"store_dir": str(store_dir)}
    if domain is not None:
        js["domain"] = domain
    conf: dict[str, Any] = {"host": host, "port": port}
    if server_name is not None:
        conf["server_name"] = server_name
    conf["jetstream"] = js
    conf["authorization"] = {"timeout": 2}  # seconds a client has to authenticate
    conf["accounts"] = {account: {"jetstream": "enabled", "users": entries}}
    if tls is not None:
        conf["tls"] = _tls(tls)
    if leaf is not None:
        conf["leafnodes"] = _leafnodes(leaf, host, account)
    return json.dumps(conf, indent=2) + "\n"


def _leafnodes(leaf: LeafLinks, host: str, account: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if leaf.port is not None:
        if not 0 < leaf.port < 65536:
            raise NatsConfError(f"leaf port: {leaf.port} (expected 1-65535)")
        out |= {"host": host, "port": leaf.port}
        if leaf.tls is not None:
            out["tls"] = _tls(leaf.tls)
    if leaf.hub_url is not None:
        if leaf.seed is None or not leaf.seed.startswith("SU"):
            raise NatsConfError("leaf: a spoke's link needs its link user's seed (SU…)")
        remote: dict[str, Any] = {"url": leaf.hub_url, "nkey": leaf.seed, "account": account,
                                  "deny_imports": list(LINK_DENY),
                                  "deny_exports": list(LINK_DENY)}
        if leaf.tls is not None:
            remote["tls"] = _tls(leaf.tls)
        out["remotes"] = [remote]
    if not out:
        raise NatsConfError("leaf: give the hub's port or the spoke's hub_url")
    return out


# ------------------------------------------------------------------ files


def _new_seed() -> tuple[bytes, str]:
    """A fresh user seed (``SU…``, from os.urandom) and its public key (``U…``)."""
    import nkeys  # type: ignore[import-untyped]

    seed = bytes(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))
    kp = nkeys.from_seed(bytearray(seed))
    public = str(kp.public_key.decode("ascii"))
    kp.wipe()
    return seed, public


def seed_path(creds_dir: Path, nation: str, role: str, sensor_id: str | None = None) -> Path:
    return creds_dir / nation / f"{user_name(nation, role, sensor_id)}.nk"


def write_credentials(out_dir: Path, nations: Sequence[str], *,
                      roles: Sequence[str] = ROLES,
                      sensors: Mapping[str, Sequence[str]] | None = None,
                      force: bool = False) -> list[Path]:
    """Make one nkey per (nation, role) and write ``DIR/<NATION>/<USER>.nk`` (the seed,
    mode 0600) and ``DIR/users.json`` (public keys only, what :func:`read_users` and the
    server config read). ``sensors``: sensor ids per nation, one feed user each; a nation
    without any gets one feed user for all its sensors. Refuses to overwrite unless
    ``force``. Returns the paths written (seeds, then ``users.json``)."""
    everyone = tuple(check_nation(n) for n in nations)
    if not everyone:
        raise NatsConfError("nations: none given")
    for r in roles:
        user_name(everyone[0], r)  # checks the role
    if out_dir.exists() and not out_dir.is_dir():
        raise NatsConfError(f"{out_dir}: is a file; expected a folder for credentials")
    wanted: list[tuple[str, str, str | None]] = []
    for n in everyone:
        for r in roles:
            ids: Sequence[str | None] = [None]
            if r == ROLE_SENSOR and sensors and sensors.get(n):
                ids = list(sensors[n])
            wanted += [(n, r, s) for s in ids]
    targets = [seed_path(out_dir, n, r, s) for n, r, s in wanted] + [out_dir / USERS_FILE]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise NatsConfError(f"{existing[0]}: exists; refusing to overwrite credentials "
                            "(use --force to replace them)")
    users: list[NatsUser] = []
    written: list[Path] = []
    try:
        for (n, r, s), path in zip(wanted, targets, strict=False):
            seed, public = _new_seed()
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path.parent, 0o700)
            if path.exists():
                path.unlink()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(seed + b"\n")
            written.append(path)
            users.append(NatsUser(n, r, public, s))
        listing = {"schema_version": USERS_SCHEMA, "nations": list(everyone),
                   "users": [dataclasses.asdict(u) | {"name": u.name} for u in users]}
        (out_dir / USERS_FILE).write_text(json.dumps(listing, indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise NatsConfError(f"{out_dir}: cannot write credentials ({exc.strerror})") from None
    return [*written, out_dir / USERS_FILE]


def read_users(path: Path) -> tuple[tuple[str, ...], tuple[NatsUser, ...]]:
    """The nations and users of a ``users.json`` (:class:`NatsConfError` if malformed)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise NatsConfError(f"{path}: cannot read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NatsConfError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema_version") != USERS_SCHEMA:
        raise NatsConfError(f"{path}: expected a users file with schema_version "
                            f"{USERS_SCHEMA}")
    try:
        nations = tuple(check_nation(n) for n in data["nations"])
        users = tuple(NatsUser(str(u["nation"]), str(u["role"]), str(u["nkey"]),
                               None if u.get("sensor_id") is None else str(u["sensor_id"]))
                      for u in data["users"])
    except (KeyError, TypeError) as exc:
        raise NatsConfError(f"{path}: users entry without {exc}") from None
    except NatsConfError as exc:
        raise NatsConfError(f"{path}: {exc}") from None
    return nations, users


def merge_users(files: Sequence[Path], out: Path) -> Path:
    """One ``users.json`` from each nation's own (public keys only): how nations that made
    their keys apart (:func:`write_credentials` for their own code, on their own machine)
    learn each other's public nkeys. A user listed twice with different keys is refused."""
    nations: dict[str, None] = {}
    users: dict[str, NatsUser] = {}
    for f in files:
        ns, us = read_users(f)
        nations |= dict.fromkeys(ns)
        for u in us:
            if u.name in users and users[u.name].nkey != u.nkey:
                raise NatsConfError(f"{f}: {u.name} has another key than in an earlier file")
            users[u.name] = u
    if not files:
        raise NatsConfError("merge: no users files given")
    listing = {"schema_version": USERS_SCHEMA, "nations": sorted(nations),
               "users": [dataclasses.asdict(u) | {"name": u.name} for u in users.values()]}
    try:
        out.write_text(json.dumps(listing, indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise NatsConfError(f"{out}: cannot write ({exc.strerror})") from None
    return out


def write_server_config(path: Path, users_file: Path, *, store_dir: Path | str,
                        hosted: Iterable[str] | None = None, **options: Any) -> Path:
    """Write :func:`server_config` for the users of ``users_file`` (mode 0600: a spoke's
    configuration holds its link seed); ``hosted`` keeps only those nations' users.
    ``options`` go to :func:`server_config` (host, port, server_name, domain, tls, leaf).
    Link users are kept only on a server that accepts leaf connections."""
    nations, users = read_users(users_file)
    if hosted is not None:
        keep = {check_nation(n) for n in hosted}
        users = tuple(u for u in users if u.nation in keep or u.role == ROLE_LINK)
    leaf = options.get("leaf")
    accepts = isinstance(leaf, LeafLinks) and leaf.port is not None
    served = {check_nation(n) for n in hosted} if hosted is not None else set(nations)
    users = tuple(u for u in users if u.role != ROLE_LINK or (accepts and u.nation not in served))
    text = server_config(users, nations, store_dir=store_dir, **options)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise NatsConfError(f"{path}: cannot write ({exc.strerror})") from None
    return path


def nation_server_config(path: Path, creds_dir: Path, nation: str, hub: str, *,
                         store_dir: Path | str, port: int, hub_url: str | None = None,
                         leaf_port: int | None = None, host: str = "127.0.0.1",
                         tls: TlsFiles | None = None,
                         link_tls: TlsFiles | None = None) -> Path:
    """One nation's server of a hub-and-spoke federation (see ``docs/deployment.md``):
    its own users, its own JetStream domain (its code); the hub (``nation == hub``)
    accepts the spokes' links on ``leaf_port``, a spoke dials ``hub_url`` with its link
    seed from ``creds_dir/<NATION>/``."""
    check_nation(nation)
    check_nation(hub)
    if nation == hub:
        if leaf_port is None:
            raise NatsConfError(f"{nation}: the hub's server needs a leaf port")
        leaf = LeafLinks(port=leaf_port, tls=link_tls)
    else:
        if hub_url is None:
            raise NatsConfError(f"{nation}: a spoke's server needs the hub's leaf URL")
        seed_file = seed_path(creds_dir, nation, ROLE_LINK)
        try:
            seed = seed_file.read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise NatsConfError(f"{seed_file}: cannot read the link seed") from None
        leaf = LeafLinks(hub_url=hub_url, seed=seed, tls=link_tls)
    return write_server_config(path, creds_dir / USERS_FILE, store_dir=store_dir,
                               hosted=[nation], host=host, port=port,
                               server_name=f"trilink-{nation}", domain=nation, tls=tls,
                               leaf=leaf)


def client_options(creds_dir: Path, nation: str, role: str,
                   sensor_id: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``nats.connect`` as that user: its seed file (nats-py reads
    it and signs the server's nonce; the seed is never sent) and its inbox prefix."""
    path = seed_path(creds_dir, nation, role, sensor_id)
    if not path.is_file():
        raise NatsConfError(f"{path}: no credentials for {user_name(nation, role, sensor_id)}"
                            " (make them with write_credentials)")
    return {"nkeys_seed": str(path), "inbox_prefix": inbox_prefix(user_name(nation, role,
                                                                            sensor_id))}


_USER_SEED = re.compile(r"^SU[A-Z2-7]{56}$")
CLIENT_ROLES: Final = (ROLE_NODE, ROLE_SENSOR, ROLE_DASHBOARD, ROLE_OPERATOR, ROLE_ADMIN)


def creds_options(creds: Path, nation: str, role: str, sensor_id: str | None = None, *,
                  flag: str = "--nats-creds") -> dict[str, Any]:
    """:func:`client_options` for a folder a user was given: the whole ``DIR`` that
    :func:`write_credentials` wrote (``DIR/<NATION>/<USER>.nk``) or just that nation's
    ``DIR/<NATION>/`` (``<USER>.nk`` in it). The seed file is checked before any
    connection: present, private (no access for group or others) and a user seed;
    anything else is one :class:`NatsConfError` line naming ``flag``, the file and what
    was expected."""
    user = user_name(nation, role, sensor_id)
    if not creds.is_dir():
        raise NatsConfError(f"{flag}: {creds}: "
                            f"{'is a file' if creds.exists() else 'no such folder'}; "
                            f"expected the folder `trilink keys nats` wrote (with "
                            f"{nation}/{user}.nk in it)")
    # The whole folder has <NATION>/ in it; a nation's own folder has the seeds.
    path = (seed_path(creds, nation, role, sensor_id) if (creds / nation).is_dir()
            else creds / f"{user}.nk")
    if not path.is_file():
        raise NatsConfError(f"{flag}: {path}: missing; expected {user}'s nkey seed in the "
                            f"folder `trilink keys nats` wrote, or in its {nation}/ folder")
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not ASCII"
        raise NatsConfError(f"{flag}: {path}: cannot read ({why})") from None
    if mode & 0o077:
        raise NatsConfError(f"{flag}: {path}: mode {mode:04o} lets others read a private "
                            "seed; expected 0600 (chmod 600 it)")
    if not _USER_SEED.match(text):
        raise NatsConfError(f"{flag}: {path}: not an nkey user seed (expected one line: SU "
                            "followed by 56 base32 characters)")
    return {"nkeys_seed": str(path), "inbox_prefix": inbox_prefix(user)}


def user_options(creds: Path | None, nation: str, role: str,
                 sensor_id: str | None = None) -> dict[str, Any]:
    """:func:`creds_options` from a command's ``--nats-creds`` (``None``: no flag, no
    credentials, a development server)."""
    return {} if creds is None else creds_options(creds, nation, role, sensor_id)


__all__ = [
    "ACCOUNT", "CLIENT_ROLES", "LINK_DENY", "ROLES", "ROLE_ADMIN", "ROLE_DASHBOARD",
    "ROLE_LINK", "ROLE_NODE", "ROLE_OPERATOR", "ROLE_SENSOR", "LeafLinks", "NatsConfError",
    "NatsUser", "Permissions",
    "TlsFiles", "cap_subject", "client_options", "clock_subject", "control_subject",
    "creds_options",
    "durable_name", "envelope_subject", "inbox_prefix", "js_api", "merge_users",
    "nation_sensors_subject",
    "nation_server_config", "outbox_stream", "permissions",
    "picture_stream", "picture_subject", "read_users", "seed_path", "sensor_subject",
    "server_config", "user_name", "user_options", "write_credentials", "write_server_config",
]
