"""A validly signed but insane track must be refused, audited, and harm nothing later."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hostile_net import all_finite, good_state, node, raw_batch, sealed, track
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.kinds.tracks import (
    TrackBatch,
    TrackRejection,
    check_state,
    decode_tracks,
    first_bad_state,
)
from trilink.sharing.audit import AuditLog
from trilink.sharing.fusion import FusedPicture, SourceTrack, predict_track

NAN = float("nan")
GX, GP = good_state()


def _bad_tracks() -> dict[str, list[Any]]:
    p_neg = list(GP)
    p_neg[0] = -1.0
    p_sing = [0.0] * 45
    return {
        "nan state": track(x=[NAN, *GX[1:]]),
        "inf covariance": track(p=[float("inf"), *GP[1:]]),
        "short state": track(x=GX[:6]),
        "long state": track(x=[*GX, 0.0]),
        "short covariance": track(p=GP[:21]),
        "not positive definite": track(p=p_neg),
        "singular covariance": track(p=p_sing),
        "far future": track(t_s=1e9),
        "far past": track(t_s=-1e9),
        "probability above one": track(pp=2.0),
        "nan probability": track(pp=NAN),
        "absurd position": track(x=[1e+30, *GX[1:]]),
        "bad id": track(tid="../../etc"),
        "strings for numbers": track(x=["1"] * 9),
    }


@pytest.mark.parametrize("case", sorted(_bad_tracks()))
def test_insane_track_is_refused_audited_and_breaks_nothing_later(case: str,
                                                                   tmp_path: Path) -> None:
    usa = node("USA", audit=tmp_path / "USA.sqlite")
    bad = sealed("JPN", "USA", raw_batch(_bad_tracks()[case]), 10.0)
    out = usa.on_message(bad, 10.0)
    assert out.rejected, f"{case}: accepted"
    assert not any(k.startswith("JPN/") for o in usa.fused() for k in o.sources)
    # A later good track from the same partner still fuses, and nothing is NaN.
    good = sealed("JPN", "USA", raw_batch(track("T2", 12.0)), 12.0)
    assert not usa.on_message(good, 12.0).rejected
    objs = usa.fused()
    assert any("JPN/T2" in o.sources for o in objs) and all_finite(usa)
    assert usa.audit is not None
    rejected = [r for r in usa.audit.records() if r.direction == "rejected"]
    assert rejected and rejected[0].kind == "missile_track", rejected
    usa.audit.close()


def test_six_element_update_of_a_known_track_never_reaches_the_kernel() -> None:
    """Was a segmentation fault: a compiled kernel indexed past a 6-element state."""
    script = textwrap.dedent("""
        import gc
        import sys; sys.path.insert(0, "tests")
        from hostile_net import good_state, node, raw_batch, sealed, track
        usa = node("USA")
        usa.on_message(sealed("JPN", "USA", raw_batch(track("T1", 10.0)), 10.0), 10.0)
        x, p = good_state()
        out = usa.on_message(sealed("JPN", "USA", raw_batch(track("T1", 15.0, x=x[:6])),
                                    15.0), 15.0)
        for _ in range(20):
            usa.on_message(sealed("JPN", "USA", raw_batch(track("T1", 16.0 + _)), 16.0 + _),
                           16.0 + _)
            usa.fused()
        gc.collect()
        print("REJECTED" if out.rejected else "ACCEPTED")
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert res.stdout.strip().endswith("REJECTED")


def test_fused_picture_refuses_bad_source_tracks_at_its_entry_point() -> None:
    pic = FusedPicture("USA")
    x, p = np.array(GX), np.diag([1e4] * 3 + [1e2] * 3 + [1.0] * 3)
    refused = pic.update([SourceTrack("JPN", "A", 1.0, np.full(9, np.nan), p, 0.0),
                          SourceTrack("JPN", "B", 1.0, x[:6], p, 0.0),
                          SourceTrack("JPN", "C", 1.0, x, p[:6, :6], 0.0),
                          SourceTrack("JPN", "D", 1.0, x, -p, 0.0),
                          SourceTrack("JPN", "E", 1.0, x, p, 0.0)])
    assert len(refused) == 4
    assert [sorted(o.sources) for o in pic.objects()] == [["JPN/E"]]
    # An update of the known track with a bad state is refused too; the old state stays.
    assert pic.update([SourceTrack("JPN", "E", 2.0, x[:6], p, 0.0)])
    assert pic.objects()[0].t_s == 1.0


def test_predict_track_checks_shapes_before_the_compiled_kernel() -> None:
    p = np.eye(9)
    with pytest.raises(ValueError):
        predict_track(np.zeros(6), p, 1.0, 0.0)
    with pytest.raises(ValueError):
        predict_track(np.zeros(9), np.eye(6), 1.0, 0.0)
    with pytest.raises(ValueError):
        predict_track(np.zeros(9, dtype=np.float32), p, 1.0, 0.0)


def test_batch_size_and_duplicates_are_bounded() -> None:
    many = raw_batch(*[track(f"T{i}") for i in range(600)])
    assert isinstance(decode_tracks(many, 10.0), TrackRejection)
    dup = raw_batch(track("T1"), track("T1"))
    assert isinstance(decode_tracks(dup, 10.0), TrackRejection)
    deep = b"\x91" * 5000 + b"\x00"  # an array in an array … 5,000 levels deep
    assert isinstance(decode_tracks(deep, 10.0), TrackRejection)
    assert isinstance(decode_tracks(raw_batch(track()), 10.0), TrackBatch)


# ----------------------------------------------------------------- properties

_num = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**63), 2**64 - 1),
                 st.just(0.0))
_msgpack_value: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), _num, st.text(max_size=8), st.binary(max_size=8)),
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=80)


def _mutated_track(draw: st.DrawFn) -> list[Any]:
    x, p = good_state(draw(st.floats(-1e5, 1e5)))
    t = draw(st.floats(-100, 200))
    pp = draw(st.floats(0, 1))
    which = draw(st.sampled_from(["x", "p", "t", "pp", "none", "len"]))
    if which == "x":
        x[draw(st.integers(0, 8))] = draw(_num)
    elif which == "p":
        p[draw(st.integers(0, 44))] = draw(_num)
    elif which == "t":
        t = draw(_num)
    elif which == "pp":
        pp = draw(_num)
    elif which == "len":
        x = x[: draw(st.integers(0, 12))]
    return [draw(st.sampled_from(["T1", "T2", "T3"])), t, x, p, pp]


mutated_track = st.composite(_mutated_track)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_msgpack_value.map(msgspec.msgpack.encode), st.binary(max_size=200)))
def test_decoder_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    res = decode_tracks(data, 10.0)
    assert isinstance(res, TrackBatch | TrackRejection)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(mutated_track(), min_size=1, max_size=3), min_size=1, max_size=6))
def test_fused_picture_survives_any_sequence_of_decoded_batches(
        batches: list[list[list[Any]]]) -> None:
    """Whatever the decoder lets through, fusion never fails and stays finite."""
    pic = FusedPicture("USA")
    t = 0.0
    for tracks in batches:
        t += 1.0
        res = decode_tracks(raw_batch(*tracks), 100.0)
        if isinstance(res, TrackRejection):
            continue
        refused = pic.update([SourceTrack("JPN", p.track_id, p.t_s, p.state(),
                                          p.covariance(), p.powered_probability)
                              for p in res.tracks])
        assert refused == []  # the decoder's checks are the picture's
        for o in pic.objects():
            assert np.all(np.isfinite(o.x)) and np.all(np.isfinite(o.P))


def test_rejection_is_in_the_audit_with_the_field(tmp_path: Path) -> None:
    usa = node("USA", audit=tmp_path / "a.sqlite")
    usa.on_message(sealed("JPN", "USA", raw_batch(track(x=GX[:6])), 10.0), 10.0)
    assert usa.audit is not None
    usa.audit.close()
    with AuditLog(tmp_path / "a.sqlite") as log:
        rows = [r for r in log.records() if r.direction == "rejected"]
    assert len(rows) == 1 and "x" in rows[0].detail and rows[0].peer == "JPN", rows


def _reference_first_bad(xs: np.ndarray, Ps: np.ndarray) -> int | None:
    """The per-track verdict first_bad_state must reproduce."""
    return next((i for i in range(len(xs)) if check_state(xs[i], Ps[i]) is not None), None)


@st.composite
def _covariance(draw: st.DrawFn) -> np.ndarray:
    """A symmetric 9×9 matrix whose condition number spans the screen's bound (1e12) and
    the limit (1e15), sometimes indefinite, singular, asymmetric or non-finite."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(9, 9)))
    log_cond = draw(st.floats(0.0, 17.0))
    ev = np.logspace(0.0, log_cond, 9) * 10.0 ** draw(st.floats(-3.0, 6.0))
    flaw = draw(st.sampled_from(["none"] * 6 + ["negative", "zero", "asym", "nan", "big"]))
    if flaw == "negative":
        ev[0] = -ev[0]
    elif flaw == "zero":
        ev[0] = 0.0
    m = (q * ev) @ q.T
    m = 0.5 * (m + m.T)
    if flaw == "asym":
        m[0, 1] = np.nextafter(m[0, 1], np.inf)
    elif flaw == "nan":
        m[4, 4] = NAN
    elif flaw == "big":
        m[2, 2] = 1e17
    return np.ascontiguousarray(m)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_covariance(), min_size=1, max_size=6), st.integers(0, 5),
       st.sampled_from([0.0, NAN, 1e9]))
def test_batch_screen_names_the_track_the_per_track_check_names(
        covs: list[np.ndarray], at: int, x_flaw: float) -> None:
    """The batched check (its compiled screen, then the exact checks) refuses the same
    row as check_state one by one, across the condition-number thresholds."""
    xs = np.zeros((len(covs), 9))
    xs[:, :3] = GX[:3]
    if x_flaw:
        xs[at % len(covs), 4] = x_flaw
    Ps = np.stack(covs)
    assert first_bad_state(xs, Ps) == _reference_first_bad(xs, Ps)


def test_batch_screen_passes_a_tracker_covariance_and_refuses_a_near_singular_one() -> None:
    P = np.diag([1e4] * 3 + [1e2] * 3 + [1.0] * 3)
    xs = np.asarray([GX, GX], dtype=np.float64)
    assert first_bad_state(xs, np.stack([P, P])) is None
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(9, 9)))
    ill = (q * np.logspace(0.0, 15.5, 9)) @ q.T  # condition number 3e15 > MAX_CONDITION
    ill = 0.5 * (ill + ill.T)
    assert first_bad_state(xs, np.stack([P, ill])) == 1
    assert check_state(xs[1], ill) is not None


def test_the_stamps_decoder_reads_the_ids_and_times_the_encoder_writes() -> None:
    # The publisher and the live bench read only these; a change of TrackPayload's
    # leading fields must not leave them reading something else.
    from dataclasses import dataclass as _dataclass

    from trilink.kinds.tracks import TRACK_STAMPS_DECODER, encode_tracks

    @_dataclass
    class Event:
        track_id: str
        t_s: float
        x: np.ndarray
        P: np.ndarray
        powered_probability: float

    x, _ = good_state()
    P = np.eye(9) * 100.0
    events = [Event(f"T{k}", 10.0 + 0.5 * k, np.asarray(x, dtype=np.float64), P, 0.25)
              for k in range(3)]
    stamps = TRACK_STAMPS_DECODER.decode(encode_tracks(events)).tracks
    assert [(s.track_id, s.t_s) for s in stamps] == [("T0", 10.0), ("T1", 10.5), ("T2", 11.0)]
