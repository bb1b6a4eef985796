"""The supply-chain and cyber sections of the comparison report (``trilink compare`` on
supply replays and cyber campaigns).

For each supply replay: a notice of what is simulated, the series of run 0 plotted
(published months filled, simulated ones hollow) with the control's announcement and
effect, the detector's public alarm and each regime's first warning marked; when each
nation is warned under each regime with its interval and its paired difference to the
baseline; the controls in force on the effective date and the list changes around the
event, with sources. For each cyber campaign: the notice, the scripted events, and when
each nation first holds each indicator under each regime.

Pure rendering from ``comparison.json``: the same inputs give the same bytes; all text
from the inputs is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from trilink.report.page import esc
from trilink.supply.report import plain_series_svg

DOMAINS = ("supply", "cyber")
SIM_STYLE = "background:#fff4d6;border-left:4px solid #E69F00;padding:8px 12px;margin:10px 0"
SIMULATED_NOTICE = "SIMULATED in part"


def split_domains(comparison: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]
                  ) -> tuple[dict[str, Any], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(the comparison restricted to missile scenarios, their rows, the supply and
    cyber scenario entries)."""
    raw = comparison.get("scenarios")
    scenarios = [sc for sc in raw if isinstance(sc, Mapping)] if isinstance(raw, list) else []
    other = [sc for sc in scenarios if sc.get("kind") in DOMAINS]
    if not other:  # a missile comparison (or a malformed one): left exactly as it is
        return dict(comparison), list(rows), []
    ids = {sc.get("id") for sc in other}
    missile = dict(comparison)
    missile["scenarios"] = [sc for sc in scenarios if sc.get("kind") not in DOMAINS]
    results = comparison.get("results")
    missile["results"] = [r for r in (results if isinstance(results, list) else [])
                          if isinstance(r, Mapping) and r.get("scenario") not in ids]
    kept = [r for r in rows if isinstance(r, Mapping) and r.get("scenario") not in ids]
    return missile, kept, other


def _results(comparison: Mapping[str, Any], sid: str) -> dict[tuple[str, str, str], Any]:
    return {(r["launch"], r["nation"], r["regime"]): r for r in comparison.get("results", [])
            if isinstance(r, Mapping) and r.get("scenario") == sid}


def _num(x: float, unit: str, signed: bool = False) -> str:
    if unit == "h":
        x /= 3600.0
    text = f"{x:+.1f}" if signed else f"{x:.1f}"
    return text.replace("-", "−") + (" d" if unit == "d" else " h")


def _cell(r: Mapping[str, Any] | None, runs: int, unit: str, signed: bool) -> str:
    if r is None:
        return "—"
    if r.get("mean") is None:
        return f"never ({runs}/{runs} runs)" if r.get("n", 0) == 0 else "—"
    text = _num(r["mean"], unit, signed)
    if r.get("ci_low") is not None and r.get("ci_high") is not None:
        text += (f" [{_num(r['ci_low'], unit, signed)}, {_num(r['ci_high'], unit, signed)}]"
                 .replace(" d,", ",").replace(" h,", ","))
    never = runs - int(r.get("n", 0))
    return esc(text) + (f"<br><small>never in {never}/{runs} runs</small>" if never else "")


def _diff(r: Mapping[str, Any] | None, b: Mapping[str, Any] | None, runs: int, unit: str
          ) -> str:
    if r is None or b is None:
        return "—"
    if r.get("diff_mean") is None:
        if int(r.get("n", 0)) > int(b.get("n", 0)):
            return esc(f"only with sharing ({r['n']}/{runs} runs against {b['n']}/{runs})")
        return "—"
    text = _num(r["diff_mean"], unit, True)
    lo, hi = r.get("diff_ci_low"), r.get("diff_ci_high")
    if lo is not None and hi is not None:
        text += f" [{_num(lo, unit, True)}, {_num(hi, unit, True)}]".replace(
            " d,", ",").replace(" h,", ",")
        if hi < 0:
            text += " earlier"
        elif lo > 0:
            text += " later"
    return esc(text)


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    th = "".join(f'<th scope="col">{h}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="scroll"><table><caption>{caption}</caption><thead><tr>{th}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")


def _regime_tables(comparison: Mapping[str, Any], sid: str, launch: str,
                   nations: Sequence[str], unit: str, caption: str) -> str:
    regimes = [str(g["id"]) for g in comparison.get("regimes", []) if isinstance(g, Mapping)]
    base = str(comparison.get("baseline") or (regimes[0] if regimes else ""))
    runs = int(comparison.get("runs") or 0)
    res = _results(comparison, sid)
    head = ["nation"] + [esc(g) for g in regimes] + [
        f"{esc(g)} − {esc(base)}" for g in regimes if g != base]
    rows = []
    for n in nations:
        b = res.get((launch, n, base))
        rows.append([esc(n)] + [_cell(res.get((launch, n, g)), runs, unit, unit == "d")
                                for g in regimes]
                    + [_diff(res.get((launch, n, g)), b, runs, unit)
                       for g in regimes if g != base])
    return _table(caption, head, rows)


def _month_of(effective: dt.date, days: float) -> str:
    return (effective + dt.timedelta(days=round(days))).strftime("%Y-%m")


def _supply_section(comparison: Mapping[str, Any], sc: Mapping[str, Any]) -> str:
    sid = str(sc["id"])
    control, series, sim = sc["control"], sc["series"], sc["simulated"]
    effective = dt.date.fromisoformat(control["effective"])
    launch = str(sc["launches"][0]["id"])
    nations = [str(n) for n in sc.get("nations", [])]
    regimes = [str(g["id"]) for g in comparison.get("regimes", []) if isinstance(g, Mapping)]
    res = _results(comparison, sid)
    marks: dict[str, list[str]] = {}
    marks.setdefault(control["announced"][:7], []).append("announced")
    marks.setdefault(control["effective"][:7], []).append("in force")
    alarm = sc.get("public_alarm_month_run0")
    if alarm:
        marks.setdefault(alarm, []).append(
            f"alarm of the public series in run 0 (on {alarm}'s figure, published "
            f"{sc.get('public_alarm_published_run0')})")
    for g in regimes:
        means = [(res[(launch, n, g)]["mean"], n) for n in nations
                 if (launch, n, g) in res and res[(launch, n, g)]["mean"] is not None]
        if means:
            day, who = min(means)
            marks.setdefault(_month_of(effective, day), []).append(
                f"warned first under {g}: {who} (day {day:+.1f})")
    # Short labels on the plot (numbered), the full text in a key below it.
    labels, key, k = {}, [], 0
    for month in sorted(marks):
        nums = []
        for text in marks[month]:
            k += 1
            nums.append(str(k))
            key.append(f"<li value=\"{k}\">{esc(month)}: {esc(text)}</li>")
        warned = any(x.startswith(("alarm", "warned")) for x in marks[month])
        labels[month] = f"{'warned' if warned else 'control'} [{','.join(nums)}]"
    svg = plain_series_svg(str(series["id"]), str(series["unit"]), list(series["months"]),
                           [float(v) for v in series["values"]],
                           [bool(p) for p in series["published"]], labels)
    svg += f'<ol class="marks">{"".join(key)}</ol>'
    signals = "; ".join(f"{p['observer']}: {p['what']} (median {p['median_days']:g} days, "
                        f"sigma {p['sigma']:g})" for p in sim.get("private_signals", []))
    notice = (f'<p class="sim" style="{SIM_STYLE}"><b>{SIMULATED_NOTICE}.</b> Of the '
              f"{sim['series_months_published'] + sim['series_months_simulated']} months of "
              f"<code>{esc(series['id'])}</code>, {sim['series_months_published']} are "
              f"published figures (filled dots, sources below) and "
              f"{sim['series_months_simulated']} are SIMULATED (hollow dots; each run draws "
              f"them anew). The private signals and their delays are assumptions of the "
              f"replay file: {esc(signals)}.</p>")
    in_force = _table(
        f"Controls in force on {esc(control['effective'])} on an export of "
        f"{esc(series['good'])} from {esc(control['imposed_by'])}",
        ["to", "what applied", "from", "until", "source"],
        ([esc(a["destination"]), esc(a["what"]), esc(a["since"] or "before the tracked "
                                                     "changes"),
          esc(a["until"] or "—"), esc(a["sources"][0] if a["sources"] else "—")]
         for a in sc.get("in_force_on_effective", [])))
    changes = _table(
        "Control-list changes around the event (each one an alert to the partners the "
        "agreements allow)", ["in force", "by", "what", "affects", "source"],
        ([esc(c["day"]), esc(c["imposed_by"]), esc(c["what"]), esc(", ".join(c["affects"])),
          esc(c["sources"][0] if c["sources"] else "—")] for c in sc.get("list_changes", [])))
    published = _published(series)
    context = "".join(_context(c, marks_of_control(control)) for c in sc.get("context", []))
    table = _regime_tables(
        comparison, sid, launch, nations, "d",
        f"Day each nation is first warned of the shortfall (days after "
        f"{esc(control['effective'])}; mean of the runs with its "
        f"{esc(comparison.get('confidence', 0.95))} interval, and the paired difference to "
        f"the baseline; negative = earlier)")
    return (f'<section id="supply-{esc(sid)}"><h2>Supply replay: {esc(sc["title"])}</h2>'
            f"<p>Control <code>{esc(control['id'])}</code> by {esc(control['imposed_by'])}: "
            f"{esc(control['effect'])}; announced {esc(control['announced'])}, in force "
            f"{esc(control['effective'])}. Every nation watches from the announcement (a "
            f"public leading signal); its warning is the first detection it learns of.</p>"
            f"{notice}<figure>{svg}<figcaption>{esc(series['good'])}: "
            f"{esc(series['reporter'])} {esc(series['flow'])}s to {esc(series['partner'])}, "
            f"run 0 (seed {esc(series['seed'])}); figures are published "
            f"{esc(series['publication_lag_days'])} days after the month ends. Dashed lines: "
            f"the control (orange), the detector's alarm and each regime's first warning "
            f"(vermilion).</figcaption></figure>{table}{in_force}{changes}"
            f"<h3>Published figures of the series</h3><ul>{published}</ul>{context}"
            "</section>")


def marks_of_control(control: Mapping[str, Any]) -> dict[str, str]:
    marks = {control["announced"][:7]: "announced", control["effective"][:7]: "in force"}
    if control["announced"][:7] == control["effective"][:7]:
        marks[control["effective"][:7]] = "announced, in force"
    return marks


def _published(series: Mapping[str, Any]) -> str:
    return "".join(
        f"<li>{esc(p['month'])}: {float(p['value']):g} {esc(series['unit'])} — "
        f"{esc(p['source'])}" + (f" ({esc(p['derived'])})" if p.get("derived") else "")
        + (f" ({esc(p['note'])})" if p.get("note") else "") + "</li>"
        for p in series.get("sources", []))


def _context(series: Mapping[str, Any], marks: Mapping[str, str]) -> str:
    """A series shown as context (a price, an inventory): plotted, not watched."""
    pub = [bool(p) for p in series["published"]]
    n_sim = pub.count(False)
    notice = (f'<p class="sim" style="{SIM_STYLE}"><b>{SIMULATED_NOTICE}.</b> '
              f"{len(pub) - n_sim} of the {len(pub)} months of <code>{esc(series['id'])}"
              f"</code> are reported figures (filled dots), {n_sim} are SIMULATED (hollow "
              "dots, interpolated between them with noise).</p>") if n_sim else ""
    svg = plain_series_svg(str(series["id"]), str(series["unit"]), list(series["months"]),
                           [float(v) for v in series["values"]], pub, marks)
    return (f"<h3>Context ({esc(series.get('measure', 'trade'))}, not watched by the "
            f"detector): {esc(series['good'])}</h3>{notice}<figure>{svg}<figcaption>"
            f"{esc(series['good'])}, {esc(series['unit'])}, run 0.</figcaption></figure>"
            f"<ul>{_published(series)}</ul>")


def _cyber_section(comparison: Mapping[str, Any], sc: Mapping[str, Any]) -> str:
    sid = str(sc["id"])
    sim = sc["simulated"]
    nations = sorted({str(r["nation"]) for r in comparison.get("results", [])
                      if isinstance(r, Mapping) and r.get("scenario") == sid})
    notice = (f'<p class="sim" style="{SIM_STYLE}"><b>{SIMULATED_NOTICE}.</b> '
              f"{esc(sim['note'])}. Spread over runs: {esc(sim['method'])}.</p>")
    events = _table("The campaign's events (times before the per-run spread)",
                    ["t after epoch", "nation", "action", "address", "TLP", "note",
                     "timing"],
                    ([esc(_num(float(e["t_s"]), "h")), esc(e["nation"]), esc(e["action"]),
                      f"<code>{esc(e['address'])}</code>", esc(e["tlp"]), esc(e["note"]),
                      "SIMULATED spread" if e["jittered"] else "record"]
                     for e in sc.get("events", [])))
    tables = "".join(
        _regime_tables(comparison, sid, str(lc["id"]), nations, "h",
                       f"When each nation first holds <code>{esc(lc['address'])}</code> "
                       f"{esc(lc.get('name', ''))} (hours after {esc(sc['epoch'])}; "
                       f"negative difference = earlier)")
        for lc in sc.get("launches", []))
    sources = "".join(f"<li>{esc(s)}</li>" for s in sc.get("sources", []))
    return (f'<section id="cyber-{esc(sid)}"><h2>Cyber campaign: {esc(sc["title"])}</h2>'
            f"{notice}{events}{tables}<h3>Sources</h3><ul>{sources}</ul></section>")


def domain_sections(comparison: Mapping[str, Any], scenarios: Sequence[Mapping[str, Any]]
                    ) -> str:
    out = []
    for sc in scenarios:
        out.append(_supply_section(comparison, sc) if sc.get("kind") == "supply"
                   else _cyber_section(comparison, sc))
    return "".join(out)


def domain_header(comparison: Mapping[str, Any], scenarios: Sequence[Mapping[str, Any]]
                  ) -> str:
    """The header of a page with no missile scenario."""
    titles = "; ".join(str(sc.get("title", sc.get("id"))) for sc in scenarios)
    regimes = "".join(f"<li><b>{esc(g['id'])}</b>: {esc(g.get('description', ''))}</li>"
                      for g in comparison.get("regimes", []) if isinstance(g, Mapping))
    return (f'<header><p class="kicker">trilink regime comparison</p><h1>{esc(titles)}</h1>'
            f"<p class=desc>{esc(comparison.get('runs'))} Monte Carlo runs (seed "
            f"{esc(comparison.get('seed'))}); in each run every regime sees the same "
            f"simulated months and delays (common random numbers), so differences come "
            f"from what is shared alone. Baseline: {esc(comparison.get('baseline'))}.</p>"
            f"<ul>{regimes}</ul></header>")
