"""`trilink screen`: screen a party's name against sanctions and export-control lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import emit_json, fail, say

screen_app = typer.Typer(help="Screen parties against sanctions and export-control lists.",
                         no_args_is_help=True)


@screen_app.command("name")
def screen_name(
    names: Annotated[list[str], typer.Argument(help="party names, in any script")],
    country: Annotated[str | None, typer.Option(
        help="the party's country, ISO alpha-2 (e.g. KR): listed parties elsewhere never match")
    ] = None,
    lists: Annotated[list[Path] | None, typer.Option(
        "--list", help="OFAC sdn.xml or CSL JSON export (repeatable; default: the shipped "
                       "DPRK excerpt)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """Exit 0 when no name matches a listed party, 1 when one does (listed below)."""
    from trilink.screening.lists import load_list, shipped_lists
    from trilink.screening.match import Screener

    if country is not None and not (len(country) == 2 and country.isalpha()):
        fail(f"--country: expected an ISO 3166-1 alpha-2 code such as KR, got {country!r}")
    parties = [p for path in lists for p in load_list(path)] if lists else shipped_lists()
    screener = Screener(parties)
    results = {n: screener.screen(n, country) for n in names}
    if as_json:
        emit_json([{"name": n, "country": country, "matches": [
            {"list": m.party.list_name, "uid": m.party.uid, "listed_name": m.listed_name,
             "primary_name": m.party.names[0], "programs": list(m.party.programs),
             "score": m.score, "why": m.why} for m in ms]} for n, ms in results.items()])
    else:
        for n, ms in results.items():
            if not ms:
                say(f"{n}: no match")
            for m in ms:
                say(f"{n}: MATCH {m.party.names[0]} ({m.party.list_name} {m.party.uid}, "
                    f"{', '.join(m.party.programs)}) as {m.listed_name!r}, score {m.score:g}")
    if any(results.values()):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(screen_app, name="screen")
