"""Picture events → Cursor-on-Target (CoT 2.0 XML, optionally TAK protocol v1).

One CoT event per fused object (the missile as this node sees it) and one per predicted
impact area, for one audience nation: an event not released to that nation
(``audience not in rel_to``) gives nothing at all — the check is here, before any
byte exists, not in the transport.

- type ``a-h-A-W-M-S-S``: MIL-STD-2525 hostile air track, weapon, missile, surface-
  launched, surface-to-surface (what a ballistic missile is in 2525B);
- ``point``: latitude, longitude, height above the ellipsoid (m); ``ce`` is the 95 %
  ellipse's semi-major axis (m), ``le`` not estimated (9999999);
- ``detail/track``: course (deg true) and ground speed (m/s); ``detail/shape/ellipse``
  the 95 % position ellipse (major/minor full axes in m, angle in deg), as ATAK draws it;
- impact areas: type ``u-d-c-e`` (a drawn ellipse) with the predicted impact's 95 %
  ellipse, stale at the predicted impact time plus a minute;
- ``remarks``: the object's sources and the nations it is released to.
"""

from __future__ import annotations

import datetime as dt
import warnings
import xml.etree.ElementTree as ET
from typing import Final

from trilink.web.publish import Ellipse, FusedItem, PictureEvent, decode_event

MISSILE_TYPE: Final = "a-h-A-W-M-S-S"
ELLIPSE_TYPE: Final = "u-d-c-e"
UNKNOWN: Final = "9999999.0"
W3C: Final = "%Y-%m-%dT%H:%M:%S.%fZ"

with warnings.catch_warnings():  # pytak warns about optional extras it does not need here
    warnings.simplefilter("ignore")
    import pytak  # type: ignore[import-untyped]


def _time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime(W3C)[:-4] + "Z"


def _ellipse(e: Ellipse) -> ET.Element:
    shape = ET.Element("shape")
    ell = ET.SubElement(shape, "ellipse")
    ell.set("major", f"{2 * e.semi_major_m:.1f}")
    ell.set("minor", f"{2 * e.semi_minor_m:.1f}")
    ell.set("angle", f"{e.azimuth_deg:.1f}")
    return shape


def _event(uid: str, cot_type: str, lat: float, lon: float, hae: float, ce: float,
           when: dt.datetime, stale: dt.datetime, detail: list[ET.Element],
           callsign: str) -> ET.Element:
    point = pytak.cot_point(lat, lon, f"{ce:.1f}", f"{hae:.1f}", UNKNOWN, precision=5)
    ev = pytak.cot_event(uid=uid, cot_type=cot_type, how="m-f", point=point,
                         detail=pytak.cot_detail(*detail, flow_tag=False), callsign=callsign)
    # The picture's time, not the sender's clock: a replay keeps its own times.
    ev.set("time", _time(when))
    ev.set("start", _time(when))
    ev.set("stale", _time(stale))
    assert isinstance(ev, ET.Element)
    return ev


def cot_events(ev: PictureEvent, audience: str, stale_s: float = 60.0,
               now: dt.datetime | None = None) -> list[bytes]:
    """CoT XML events for one picture event, for a TAK server of ``audience``'s users.

    ``now``: stamp the events with this time instead of the picture's (replays shown
    live). Only ``fused`` events give CoT; anything not released to ``audience``: []."""
    if audience not in ev.rel_to or not isinstance(ev.item, FusedItem):
        return []
    it = ev.item
    when = now or dt.datetime.fromisoformat(ev.utc.replace("Z", "+00:00"))
    uid = f"trilink.{ev.node}.{it.fused_id}"
    track = ET.Element("track")
    track.set("course", f"{it.heading_deg:.1f}")
    track.set("speed", f"{it.speed_m_s:.1f}")
    sources = ", ".join(sorted({s.nation for s in it.sources}))
    remarks = ET.Element("remarks")
    remarks.text = (f"{ev.node} fused object {it.fused_id}: missile, "
                    f"{it.alt_m / 1e3:.0f} km, {it.speed_m_s / 1e3:.2f} km/s; sources "
                    f"{sources}; releasable to {', '.join(ev.rel_to)}")
    out = [_event(uid, MISSILE_TYPE, it.lat_deg, it.lon_deg, it.alt_m, it.ellipse.semi_major_m,
                  when, when + dt.timedelta(seconds=stale_s),
                  [track, _ellipse(it.ellipse), remarks], f"{ev.node} {it.fused_id}")]
    if it.impact is not None:
        imp = it.impact
        lasts = max(stale_s, imp.t_s - ev.t_s + 60.0)
        note = ET.Element("remarks")
        note.text = (f"{ev.node}: predicted impact area (95 %) of {it.fused_id}, "
                     f"level {imp.level}")
        out.append(_event(f"{uid}.impact", ELLIPSE_TYPE, imp.lat_deg, imp.lon_deg, 0.0,
                          imp.ellipse.semi_major_m, when, when + dt.timedelta(seconds=lasts),
                          [_ellipse(imp.ellipse), note], f"{it.fused_id} impact"))
    return [ET.tostring(e, encoding="utf-8") for e in out]


def cot_for_data(data: bytes, audience: str, stale_s: float = 60.0,
                 now: dt.datetime | None = None) -> list[bytes]:
    """:func:`cot_events` of an encoded picture event (undecodable data gives [])."""
    import msgspec

    try:
        ev = decode_event(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    return cot_events(ev, audience, stale_s, now)


def to_protobuf(xml: bytes) -> bytes:
    """The same event in TAK protocol version 1 (streaming framing), via takproto."""
    import takproto  # type: ignore[import-untyped]

    return bytes(takproto.xml2proto(xml, takproto.TAKProtoVer.STREAM))
