"""A schedule as iCalendar (RFC 5545, the `icalendar` package): one all-day event per
exercise, deterministic to the byte (UIDs from the programme and occurrence, DTSTAMP
from the programme's ``issued`` date)."""

from __future__ import annotations

import datetime as dt

import icalendar

from trilink.exercise.schedule import Schedule


def to_ical(s: Schedule) -> bytes:
    p = s.programme
    cal = icalendar.Calendar()
    cal.add("prodid", "-//trilink//exercise programme//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", p.name)
    stamp = dt.datetime(p.issued.year, p.issued.month, p.issued.day, tzinfo=dt.UTC)
    for item in s.items:
        o = item.occurrence
        ev = icalendar.Event()
        ev.add("uid", f"{p.id}.{o.key}@trilink")
        ev.add("dtstamp", stamp)
        ev.add("summary", f"{o.series.name} {o.label}")
        ev.add("dtstart", item.first_day)
        ev.add("dtend", item.last_day + dt.timedelta(days=1))  # exclusive, all-day
        uses = ", ".join(f"{n} × {a}" for a, n in sorted(o.series.uses.items()))
        lines = [f"Participants: {', '.join(o.series.participants)}",
                 f"Assets: {uses}",
                 f"Objectives: {', '.join(o.series.objectives) or '-'}",
                 f"Basis: {o.series.basis}",
                 "Notional plan: scheduled by trilink from planning assumptions."]
        if item.holidays_touched:
            lines.append("Touches public holidays: " + "; ".join(item.holidays_touched))
        ev.add("description", "\n".join(lines))
        ev.add("categories", ["EXERCISE", o.series.id])
        cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data
