"""The missile catalogue: every DPRK ballistic type in service, sourced, and its file
checked like any user-written data file."""

from __future__ import annotations

import re

import pytest

from trilink.datafile import FileInvalidError
from trilink.physics.missiles import (
    catalogue,
    get_profile,
    load_catalogue,
    types_of_class,
)

# The issue's list (issue 14, item 1), by the names people use for them.
REQUIRED = ["Scud-B", "Scud-C", "Scud-ER", "KN-23", "KN-24", "KN-25", "Hwasong-11A",
            "Hwasong-11B", "Hwasong-11C", "Hwasong-11D", "Pukguksong-1", "Pukguksong-2",
            "Pukguksong-3", "mini-SLBM", "Hwasong-12", "Hwasong-14", "Hwasong-15",
            "Hwasong-17", "Hwasong-18", "Hwasong-19", "Hwasong-8", "Hwasong-16B"]


@pytest.mark.parametrize("name", REQUIRED)
def test_every_type_named_in_the_issue_is_there(name: str) -> None:
    p = get_profile(name)
    assert p.stages and p.propellant in ("liquid", "solid")


@pytest.mark.parametrize("key", sorted(catalogue().profiles))
def test_every_profile_rests_on_dated_public_figures(key: str) -> None:
    p = catalogue().profiles[key]
    assert p.figures, f"{key}: no public figure cited"
    for f in p.figures:
        assert re.match(r"^(https?://|docs/)", f.source)
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", f.date)
    # What is assumed says so.
    assert "[E]" in p.assumptions


def test_glide_types_carry_a_glide_vehicle_and_others_do_not() -> None:
    for p in catalogue().profiles.values():
        assert (p.glide is not None) == (p.flight_profile == "glide")
    assert get_profile("hwasong-8").flight_profile == "glide"
    assert get_profile("hwasong-16b").flight_profile == "glide"
    assert get_profile("KN-23").flight_profile == "quasi-ballistic"


def test_a_class_stands_for_all_its_ballistic_types() -> None:
    icbm = [p.key for p in types_of_class("ICBM")]
    assert icbm[0] == catalogue().class_defaults["ICBM"]
    assert set(icbm) == {"hwasong-14", "hwasong-15", "hwasong-17", "hwasong-18", "hwasong-19"}
    # Glide types are not ballistic candidates for a class name.
    assert "hwasong-16b" not in [p.key for p in types_of_class("IRBM")]
    assert "hwasong-16b" in [p.key for p in types_of_class("irbm", ("glide",))]


def test_unknown_name_lists_what_is_accepted() -> None:
    with pytest.raises(KeyError, match="expected one of"):
        get_profile("taepodong-9")


BAD = """\
class_defaults:
  SRBM: kn-23
profiles:
  kn-23:
    name: KN-23
    missile_class: SRBM
    propellant: solid
    stages:
      - {name: motor, propellant_kg: -5, dry_kg: 550, burn_time_s: 30, isp_sl_s: 250,
         isp_vac_s: 272, diameter_m: 0.95}
    payload_kg: 450
    rv_ballistic_coefficient_kg_m2: 10000
    boost_drag_coefficient: 0.2
    vertical_rise_s: 3
    pitch_end_s: 18
    figures:
      - {what: a figure, source: "not a url", date: "2024-1-1"}
    assumptions: "[E]"
"""


def test_a_bad_missile_file_names_file_line_and_field() -> None:
    with pytest.raises(FileInvalidError) as err:
        load_catalogue(BAD, "missiles.yaml")
    lines = err.value.lines()
    assert any(x.startswith("missiles.yaml:9: profiles.kn-23.stages.0.propellant_kg:")
               for x in lines), lines
    assert any("figures.0.source" in x and x.startswith("missiles.yaml:17:") for x in lines)
    assert any("figures.0.date" in x for x in lines)


def test_class_default_must_be_of_its_class() -> None:
    text = BAD.replace("SRBM: kn-23", "ICBM: kn-23").replace("propellant_kg: -5",
                                                             "propellant_kg: 5")
    text = text.replace('source: "not a url", date: "2024-1-1"',
                        'source: "https://x.example", date: "2024-01-01"')
    with pytest.raises(FileInvalidError, match="not of that class"):
        load_catalogue(text, "missiles.yaml")
