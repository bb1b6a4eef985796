"""The node's picture as a stream of events: what the dashboard and CoT read (contract C3).

:func:`picture_events` turns one node step (the node and its :class:`NodeOutput`) into
encoded :class:`PictureEvent` s; the live node publishes each on
``trilink.picture.<NATION>`` (JetStream stream ``PICTURE_<NATION>``, made by
:func:`ensure_picture_stream`). Faces (the web server, the CoT sender) read that stream
and filter each event by its ``rel_to``: a viewer of nation V sees an event only if V is
in ``rel_to``.

Events (schema version :data:`SCHEMA_VERSION`, JSON via msgspec), one ``kind`` each:

- ``track`` — one source track in the picture (the node's own or a partner's), its
  position, velocity and 95 % horizontal position ellipse;
- ``fused`` — one fused object (a missile) and its sources;
- ``warning`` — a CAP message the node issued, with its XML text;
- ``consultation`` — a hotline consultation's state and transcript; ``hotline`` — one post;
- ``agreement`` — the agreements in force (when they change).

Releasability: the node's own items carry ``node.rel_to``; a partner's track carries the
``rel_to`` of the envelope it came in and the agreements of the route it came by; a fused
object is releasable only where *every* source is (it is made of all of them); a warning
follows the object it is about; a hotline post goes to the consultation's parties, the
desk's view of a consultation stays with the node's nation. A source whose envelope this
publisher never saw is kept to the node's nation alone (fail closed).

State. Events say what *changed*, so the publisher remembers what it last published per
node (:class:`PicturePublisher`; :func:`picture_events` keeps one per node object).
Track and fused updates are sent at most every ``min_interval_s`` of node time per item.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec
import numpy as np
from numpy.typing import NDArray

from trilink.kinds.tracks import TRACK_STAMPS_DECODER
from trilink.live.natsconf import picture_stream as picture_stream
from trilink.live.natsconf import picture_subject as picture_subject
from trilink.node import NationalNode, NodeOutput
from trilink.physics import earth
from trilink.sharing.envelope import Envelope, Kind
from trilink.sharing.fusion import FusedObject, SourceTrack
from trilink.sharing.policy import Denied

F = NDArray[np.float64]
SCHEMA_VERSION: Final = 1
KINDS: Final = ("track", "fused", "warning", "consultation", "hotline", "agreement")
CHI2_2D_95: Final = 5.991464547107979  # chi-square, 2 degrees of freedom, 95 %


# ------------------------------------------------------------------ schema


class Ellipse(msgspec.Struct, frozen=True):
    """A 95 % ellipse on the ground: semi-axes (m) and the major axis' azimuth (deg)."""

    semi_major_m: float
    semi_minor_m: float
    azimuth_deg: float


class Impact(msgspec.Struct, frozen=True):
    """A predicted impact area (from the node's latest assessment of the object)."""

    lat_deg: float
    lon_deg: float
    t_s: float
    ellipse: Ellipse
    level: str


class TrackItem(msgspec.Struct, frozen=True, tag="track"):
    key: str  # "<NATION>/<track id>"
    nation: str  # whose sensors made it
    track_id: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_m: float
    speed_m_s: float
    heading_deg: float
    ellipse: Ellipse
    powered_probability: float
    fused_id: str | None
    # The announced exercise launch its object came from ("": not a drill track).
    exercise: str = ""


class SourceRef(msgspec.Struct, frozen=True):
    key: str
    nation: str
    t_s: float


class FusedItem(msgspec.Struct, frozen=True, tag="fused"):
    fused_id: str
    t_s: float
    lat_deg: float
    lon_deg: float
    alt_m: float
    speed_m_s: float
    heading_deg: float
    ellipse: Ellipse
    powered_probability: float
    sources: list[SourceRef]
    impact: Impact | None
    first_t_s: float  # when the object entered the picture (the launch timeline)
    exercise: str = ""  # the announced exercise launch it came from ("": not a drill)


class WarningItem(msgspec.Struct, frozen=True, tag="warning"):
    identifier: str
    msg_type: str  # Alert, Update, Cancel
    level: str
    track_id: str
    t_s: float
    headline: str
    description: str
    areas: list[list[list[float]]]  # polygons of [lat, lon] (CAP order)
    cap_xml: str
    status: str = ""  # CAP status: Actual, Exercise, … ("": a publisher that did not say)
    exercise: str = ""  # the announced exercise launch of a drill track ("": none)


class ConsultationItem(msgspec.Struct, frozen=True, tag="consultation"):
    consultation: str
    view: dict[str, Any]  # trilink.live.control.show_view


class HotlineItem(msgspec.Struct, frozen=True, tag="hotline"):
    consultation: str
    msg_id: str
    origin: str
    authority: str
    what: str
    text: str
    t_s: float


class AgreementRef(msgspec.Struct, frozen=True):
    id: str
    name: str
    parties: list[str]
    kinds: list[str]


class AgreementItem(msgspec.Struct, frozen=True, tag="agreement"):
    policy: str
    in_force: list[AgreementRef]
    # The exercise launches the node was told of (tracks from them are drills): a node
    # running an exercise says so before any drill track shows.
    exercise: list[str] = msgspec.field(default_factory=list)


Item = TrackItem | FusedItem | WarningItem | ConsultationItem | HotlineItem | AgreementItem


class PictureEvent(msgspec.Struct, frozen=True):
    """One change of a node's picture. ``id`` names the item (``<kind>:<item id>``): a
    later event with the same id replaces it."""

    v: int
    kind: str
    id: str
    node: str
    t_s: float
    utc: str
    rel_to: list[str]
    agreements: list[str]  # agreements under which a received item came ([] if own)
    item: Item


_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder(PictureEvent)


def encode_event(ev: PictureEvent) -> bytes:
    return _ENC.encode(ev)


def decode_event(data: bytes) -> PictureEvent:
    """The event in ``data``; :class:`msgspec.DecodeError` or ``ValidationError`` if
    it is not one (wrong shape, or a schema version this code does not read)."""
    ev = _DEC.decode(data)
    if ev.v != SCHEMA_VERSION:
        raise msgspec.ValidationError(f"v: expected schema version {SCHEMA_VERSION}, "
                                      f"got {ev.v}")
    if ev.kind != _tag(ev.item):
        raise msgspec.ValidationError(f"kind: {ev.kind!r} does not match its item")
    return ev


def _tag(item: Item) -> str:
    return str(type(item).__struct_config__.tag)


# ------------------------------------------------------------------ geometry


def _finite(v: float) -> float:
    return float(v) if math.isfinite(v) else 0.0


def kinematics(x: F, P: F) -> tuple[float, float, float, float, float, Ellipse]:
    """Latitude, longitude (deg), altitude (m), ground speed (m/s), heading (deg) and the
    95 % horizontal position ellipse of an ECEF state (9) and covariance."""
    lat, lon, h = earth.ecef_to_geodetic(np.asarray(x[:3], dtype=np.float64))
    basis = earth.enu_basis(lat, lon)  # rows: east, north, up
    v_enu = basis @ np.asarray(x[3:6], dtype=np.float64)
    cov = basis[:2] @ np.asarray(P, dtype=np.float64)[:3, :3] @ basis[:2].T
    return (_finite(float(np.degrees(lat))), _finite(float(np.degrees(lon))),
            _finite(float(h)), _finite(float(math.hypot(v_enu[0], v_enu[1]))),
            _finite(math.degrees(math.atan2(v_enu[0], v_enu[1])) % 360.0),
            ellipse_of(cov))


def ellipse_of(cov_en_m2: F) -> Ellipse:
    """The 95 % ellipse of an east/north covariance (m²)."""
    c = 0.5 * (cov_en_m2 + cov_en_m2.T)
    if not np.all(np.isfinite(c)):
        return Ellipse(0.0, 0.0, 0.0)
    vals, vecs = np.linalg.eigh(c)
    major = vecs[:, 1]
    return Ellipse(math.sqrt(CHI2_2D_95 * max(float(vals[1]), 0.0)),
                   math.sqrt(CHI2_2D_95 * max(float(vals[0]), 0.0)),
                   math.degrees(math.atan2(major[0], major[1])) % 180.0)


# ------------------------------------------------------------------ the publisher


def _rel_key(rel: Iterable[str]) -> list[str]:
    return sorted(set(rel))


class PicturePublisher:
    """What one node has published; see the module docstring."""

    def __init__(self, nation: str, min_interval_s: float = 1.0,
                 agreements_every_s: float = 60.0) -> None:
        self.nation = nation
        self.min_interval_s = min_interval_s
        self.agreements_every_s = agreements_every_s
        # source key → (rel_to, agreement ids) of the envelope it last came in
        self.received: dict[str, tuple[list[str], list[str]]] = {}
        self._sent_t: dict[str, float] = {}  # event id → node time it was last sent
        self._sent_state: dict[str, tuple[float, int]] = {}  # id → (item time, sources)
        self._sent_rel: dict[str, list[str]] = {}
        self._impact: dict[str, Impact] = {}  # fused id / track id → latest assessment
        self._first: dict[str, float] = {}
        self._consultations: dict[str, str] = {}  # id → digest of the last view sent
        self._posts: set[str] = set()
        self._agreements_at = -math.inf
        self._agreements: list[str] | None = None
        self._hotline_at = -math.inf
        # The picture's revision when last read, and the objects read then with an item
        # held back by min_interval_s (or whose sources' releasability changed since):
        # only these and the objects changed since are looked at again.
        self._seen_revision = -1
        self._pending: set[str] = set()
        self._seen_picture: object = None
        self._sent_drill: dict[str, str] = {}  # event id → drill label last sent
        self._utc_of: tuple[dt.datetime, float, str] | None = None  # (epoch, now_s, UTC)

    # -- entry point -------------------------------------------------------------------
    def events(self, node: NationalNode, out: NodeOutput | None, now_s: float,
               force: bool = False) -> list[bytes]:
        """Encoded events for what changed in ``node`` (given its output ``out`` of this
        step, if any) at node time ``now_s``. ``force``: send every changed track and
        fused object now, whatever ``min_interval_s`` says (end of a run)."""
        evs: list[PictureEvent] = []
        if out is not None:
            self._note_received(node, out.accepted, now_s)
            self._note_assessments(getattr(out, "assessments", None) or [])
        evs += self._agreement_events(node, now_s)
        picture = self._picture_events(node, now_s, force)
        warns = self._warning_events(node, getattr(out, "warnings", None) or [], now_s)
        evs += picture + warns
        evs += self._hotline_events(node, out, now_s)
        return [encode_event(e) for e in evs]

    # -- releasability of received items -------------------------------------------
    def _note_received(self, node: NationalNode, accepted: Sequence[Envelope],
                       now_s: float) -> None:
        when = node.epoch + dt.timedelta(seconds=now_s)
        # One route per sender, originator and release list in a step (a burst is
        # hundreds of envelopes from one partner under the same agreements).
        routes: dict[tuple[str, str, str, frozenset[str]], tuple[list[str], list[str]]] = {}
        for env in accepted:
            if env.kind != Kind.MISSILE_TRACK or env.recipient != node.nation:
                continue
            try:
                ids = TRACK_STAMPS_DECODER.decode(env.payload).tracks
            except msgspec.DecodeError:
                continue
            how = (env.sender, env.originator, str(env.kind), frozenset(env.rel_to))
            seen = routes.get(how)
            if seen is None:
                # The route the node itself checked it came by (direct, or a relay).
                route = node.policy.route(env.sender, node.nation, env.kind, when,
                                          env.rel_to, env.originator)
                seen = routes[how] = (_rel_key(env.rel_to), [] if isinstance(
                    route, Denied) else list(route.agreement_ids))
            for p in ids:
                key = f"{env.originator}/{p.track_id}"
                if self.received.get(key) != seen:
                    self.received[key] = seen
                    owner = node.picture.owner(key)
                    if owner is not None:
                        self._pending.add(owner)

    def _source_rel(self, node: NationalNode, src: SourceTrack) -> tuple[list[str], list[str]]:
        if src.nation == node.nation:
            return list(node.rel_to), []
        return self.received.get(f"{src.nation}/{src.track_id}", ([node.nation], []))

    def _note_assessments(self, assessments: Sequence[Any]) -> None:
        for track_id, a in assessments:
            try:
                smaj, smin, az = a.impact.ellipse_95()
                self._impact[str(track_id)] = Impact(
                    float(np.degrees(a.impact.lat_rad)), float(np.degrees(a.impact.lon_rad)),
                    float(a.impact.impact_t_s), Ellipse(float(smaj), float(smin),
                                                        math.degrees(float(az))),
                    str(a.level))
            except (AttributeError, ValueError, TypeError):
                continue  # an assessment of another shape: no impact area drawn

    # -- events ----------------------------------------------------------------------
    def _event(self, node: NationalNode, kind: str, ident: str, now_s: float,
               rel: Sequence[str], agreements: Sequence[str], item: Item) -> PictureEvent:
        # The events of a step share its time: its UTC text is made once.
        if self._utc_of is None or self._utc_of[:2] != (node.epoch, now_s):
            when = node.epoch + dt.timedelta(seconds=now_s)
            self._utc_of = (node.epoch, now_s, when.astimezone(dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"))
        utc = self._utc_of[2]
        return PictureEvent(SCHEMA_VERSION, kind, f"{kind}:{ident}", node.nation,
                            round(float(now_s), 3), utc, _rel_key(rel), list(agreements),
                            item)

    def _due(self, ident: str, item_t_s: tuple[float, int], now_s: float, rel: list[str],
             force: bool, drill: str = "") -> bool:
        if self._sent_drill.get(ident, "") != drill:
            return True  # it became a drill: the screens must mark it at once
        if self._sent_state.get(ident) == item_t_s and self._sent_rel.get(ident) == rel:
            return False
        if self._sent_rel.get(ident, rel) != rel:
            return True  # releasability changed: say so at once
        last = self._sent_t.get(ident)
        return force or last is None or now_s - last >= self.min_interval_s

    def _held(self, ident: str, item_t_s: tuple[float, int], rel: list[str]) -> bool:
        """Changed since last sent but not due yet: to be looked at again next step."""
        return self._sent_state.get(ident) != item_t_s or self._sent_rel.get(ident) != rel

    def _mark(self, ident: str, item_t_s: tuple[float, int], now_s: float,
              rel: list[str], drill: str = "") -> None:
        if drill:
            self._sent_drill[ident] = drill
        self._sent_t[ident] = now_s
        self._sent_state[ident] = item_t_s
        self._sent_rel[ident] = rel

    def _picture_events(self, node: NationalNode, now_s: float,
                        force: bool) -> list[PictureEvent]:
        evs: list[PictureEvent] = []
        drills = _drills(node)
        picture = node.picture
        if picture is not self._seen_picture:  # first use, or the node has a new picture
            self._seen_picture, self._seen_revision = picture, -1
        # Only objects that changed, were held back, or whose drill label is news.
        look = self._pending | {fid for fid, d in drills.items()
                                if self._sent_drill.get(f"fused:{fid}", "") != d}
        objs: list[FusedObject] = (node.fused() if force else
                                   picture.changed_since(self._seen_revision, look))
        self._seen_revision = picture.revision
        for obj in objs:
            self._pending.discard(obj.fused_id)
            drill = drills.get(obj.fused_id, "")
            rels: list[list[str]] = []
            refs: list[SourceRef] = []
            for key, src in sorted(obj.sources.items()):
                rel, ids = self._source_rel(node, src)
                rels.append(rel)
                refs.append(SourceRef(key, src.nation, round(src.t_s, 3)))
                ident = f"track:{key}"
                if self._due(ident, (src.t_s, 1), now_s, rel, force, drill):
                    self._mark(ident, (src.t_s, 1), now_s, rel, drill)
                    lat, lon, h, spd, hdg, ell = kinematics(src.x, src.P)
                    evs.append(self._event(node, "track", key, now_s, rel, ids, TrackItem(
                        key, src.nation, src.track_id, round(src.t_s, 3), lat, lon, h, spd,
                        hdg, ell, round(src.powered_probability, 3), obj.fused_id, drill)))
                elif self._held(ident, (src.t_s, 1), rel):
                    self._pending.add(obj.fused_id)
            if not refs:
                continue
            common = set(rels[0]).intersection(*rels[1:])
            rel = _rel_key(common | {node.nation})
            ident = f"fused:{obj.fused_id}"
            self._first.setdefault(obj.fused_id, min(s.t_s for s in obj.sources.values()))
            state = (obj.t_s, len(refs))  # a new source is news even at the same time
            if self._due(ident, state, now_s, rel, force, drill):
                self._mark(ident, state, now_s, rel, drill)
                lat, lon, h, spd, hdg, ell = kinematics(obj.x, obj.P)
                evs.append(self._event(node, "fused", obj.fused_id, now_s, rel, [], FusedItem(
                    obj.fused_id, round(obj.t_s, 3), lat, lon, h, spd, hdg, ell,
                    round(obj.powered_probability, 3), refs, self._impact.get(obj.fused_id),
                    round(self._first[obj.fused_id], 3), drill)))
            elif self._held(ident, state, rel):
                self._pending.add(obj.fused_id)
        return evs

    def _warning_events(self, node: NationalNode, warnings: Sequence[Any],
                        now_s: float) -> list[PictureEvent]:
        from trilink.warning.cap import to_xml

        evs = []
        for w in warnings:
            msg = w.message
            params = dict(msg.parameters)
            track = str(w.track_id)
            # A warning tells what the object's sources told: it goes where they may.
            rel = self._sent_rel.get(f"fused:{track}") or self._sent_rel.get(
                f"track:{track}") or [node.nation]
            areas = [[[float(lat), float(lon)] for lat, lon in a.polygon_deg] for a in msg.areas]
            evs.append(self._event(node, "warning", msg.identifier, float(w.t_s), rel, [],
                                   WarningItem(msg.identifier, msg.msg_type,
                                               params.get("trilink_level", ""), track,
                                               round(float(w.t_s), 3), msg.headline or "",
                                               msg.description or "", areas,
                                               to_xml(msg).decode("utf-8"), str(msg.status),
                                               params.get("trilink_exercise", ""))))
        return evs

    def _agreement_events(self, node: NationalNode, now_s: float) -> list[PictureEvent]:
        if now_s - self._agreements_at < self.agreements_every_s:
            return []
        self._agreements_at = now_s
        when = node.epoch + dt.timedelta(seconds=now_s)
        in_force = node.policy.in_force(when)
        announced = _announced(node)
        ids = [a.id for a in in_force] + [f"exercise:{label}" for label in announced]
        if ids == self._agreements:
            return []
        self._agreements = ids
        refs = [AgreementRef(a.id, a.name, list(a.parties), [str(k) for k in a.kinds])
                for a in in_force]
        everyone = set(node.rel_to) | set(node.config.partners) | {node.nation}
        return [self._event(node, "agreement", "in-force", now_s, sorted(everyone), [],
                            AgreementItem(node.policy.name, refs, announced))]

    def _hotline_events(self, node: NationalNode, out: NodeOutput | None,
                        now_s: float) -> list[PictureEvent]:
        from trilink.live.control import post_text, show_view

        busy = out is not None and bool(out.hotline.events or out.hotline.delivered
                                        or getattr(out, "consultations_opened", None))
        if not busy and now_s - self._hotline_at < 5.0:
            return []
        self._hotline_at = now_s
        evs: list[PictureEvent] = []
        for cid, c in sorted(node.hotline.consultations.items()):
            # Posts go to every party anyway; the desk's view of the consultation (who has
            # not read, escalations) is the node's own.
            rel = _rel_key(set(c.parties) | {node.nation})
            for post in c.transcript():
                if post.msg_id in self._posts:
                    continue
                self._posts.add(post.msg_id)
                evs.append(self._event(node, "hotline", post.msg_id, now_s, rel, [],
                                       HotlineItem(cid, post.msg_id, post.origin,
                                                   str(post.authority), str(post.what),
                                                   post_text(post.body),
                                                   round(float(post.t_s), 3))))
            view = show_view(node, c)
            digest = json.dumps(view, sort_keys=True, default=str)
            if self._consultations.get(cid) != digest:
                self._consultations[cid] = digest
                evs.append(self._event(node, "consultation", cid, now_s, [node.nation], [],
                                       ConsultationItem(cid, json.loads(digest))))
        return evs


def _drills(node: NationalNode) -> dict[str, str]:
    """Fused object id → the announced exercise launch it came from (its warning centre's
    drill tracks)."""
    return node.watch.center.drill


def _announced(node: NationalNode) -> list[str]:
    """Labels of the exercise launches the node's watch was told of."""
    return sorted({a.label for a in node.watch.config.announced})


_PUBLISHERS: weakref.WeakKeyDictionary[NationalNode, PicturePublisher] = (
    weakref.WeakKeyDictionary())


def publisher_of(node: NationalNode) -> PicturePublisher:
    """The publisher kept for ``node`` (made on first use)."""
    pub = _PUBLISHERS.get(node)
    if pub is None:
        pub = _PUBLISHERS[node] = PicturePublisher(node.nation)
    return pub


def picture_events(node: NationalNode, out: NodeOutput | None, now_s: float) -> list[bytes]:
    """Contract C3: the encoded picture events of one node step (see the module doc).

    Call it after every ``on_scan`` / ``on_message`` / ``tick`` / control request with that
    step's output; publish each result on :func:`picture_subject` (``node.nation``)."""
    return publisher_of(node).events(node, out, now_s)


# ------------------------------------------------------------------ JetStream


async def ensure_picture_stream(js: Any, nation: str, max_age_s: float = 7 * 24 * 3600.0,
                                max_bytes: int = 1 << 30) -> None:
    """Create (or keep) the JetStream stream ``PICTURE_<NATION>`` on
    ``trilink.picture.<NATION>``: file storage, limits retention, bounded age and size."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    name = picture_stream(nation)
    cfg = StreamConfig(name=name, subjects=[picture_subject(nation)],
                       retention=RetentionPolicy.LIMITS, storage=StorageType.FILE,
                       max_age=max_age_s, max_bytes=max_bytes)
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(cfg)


__all__ = [
    "KINDS", "SCHEMA_VERSION", "AgreementItem", "ConsultationItem", "Ellipse", "FusedItem",
    "HotlineItem", "Impact", "PictureEvent", "PicturePublisher", "TrackItem", "WarningItem",
    "decode_event", "encode_event", "ensure_picture_stream", "picture_events",
    "picture_stream", "picture_subject", "publisher_of",
]
