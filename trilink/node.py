"""NationalNode: one nation's node as a sans-I/O state machine.

Inputs: radar scans of the nation's own sensors, wire bytes from partners, and the
time (seconds since the scenario epoch, passed in). Outputs: messages to send (with the
earliest time each may leave), track events and audit records. No sockets, no clocks:
the simulation (:mod:`trilink.sim.federation`) and live mode drive the same code.

What the node does:

- tracks with its own sensors (:class:`trilink.tracking.tracker.Tracker`);
- shares each confirmed track, at most every ``share_interval_s``, with every partner
  the policy allows — directly or through a relay — as a signed envelope marked with the
  node's releasability; the route's latency (processing, relays) delays the send;
- checks what it receives twice: the envelope (signature, key, replay, time window,
  addressing, releasability) and the policy (the item may come to it by this route);
  forwards what it relays, after the relay's delay; logs every verdict;
- fuses its own tracks and partners' tracks into one picture (covariance intersection);
- runs the nation's hotline desk (:mod:`trilink.hotline.desk`): hotline and statement
  envelopes go to it; its orders become signed envelopes with hotline priority, sent
  directly or, where no agreement allows a direct exchange, wrapped in a ``Forward``
  that a third party carries (and checks against its own agreements) to the recipient;
- keeps watch (:mod:`trilink.watch`): every ``assess_every_s`` it assesses its fused
  picture for its nation, issues CAP Alert / Update / Cancel, and opens or feeds
  consultations on significant tracks under the trigger rules;
- hands envelopes of other kinds to their plug-ins (contract C1,
  :mod:`trilink.kinds.base`), after the same checks, and seals what they send.

Drivers (the simulation, live mode) only feed :meth:`NationalNode.on_scan`,
:meth:`NationalNode.on_message` (with the transport's authenticated sender) and
:meth:`NationalNode.tick` (when :meth:`NationalNode.next_wakeup_s` says), carry
``NodeOutput`` (contract C2: outgoing envelopes, track events, warnings, assessments,
consultations opened, plug-in events, whether the picture changed) and call
:meth:`NationalNode.close` when they stop. The node decides everything else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
import numpy as np
from numpy.typing import NDArray

from trilink.hotline.desk import DeskConfig, DeskOutput, HotlineDesk, Send
from trilink.hotline.wire import Forward, decode_item, encode_item
from trilink.kinds.base import KindPlugin, PluginOutput
from trilink.kinds.tracks import TRACK_DECODER, TrackRejection, decode_checked
from trilink.kinds.tracks import TrackBatch as TrackBatch
from trilink.kinds.tracks import TrackPayload as TrackPayload
from trilink.kinds.tracks import encode_tracks as encode_tracks
from trilink.kinds.tracks import track_payload as track_payload
from trilink.sharing.audit import AuditLog, Direction
from trilink.sharing.checkpoint import is_checkpoint
from trilink.sharing.envelope import (
    Accepted,
    Envelope,
    KeyRegistry,
    Kind,
    NodeKey,
    Reason,
    Rejection,
    Signer,
    Verifier,
    Window,
    decode,
    encode,
)
from trilink.sharing.fusion import FusedObject, FusedPicture, SourceTrack
from trilink.sharing.policy import Denied, Direct, Policy, Relay
from trilink.sharing.relay import check_delivery, stamp
from trilink.tracking.tracker import EventKind, ScanLike, Tracker, TrackerConfig, TrackEvent
from trilink.warning.assessment import Assessment
from trilink.warning.center import WarningEvent
from trilink.watch import Round, Watch, WatchConfig

F = NDArray[np.float64]
NS_PER_S = 1_000_000_000
# The track kind's schema and checks live in trilink.kinds.tracks; the names stay here
# for the modules that import them from the node.
_DEC = TRACK_DECODER


@dataclass(frozen=True)
class NodeConfig:
    """A node's identity and sharing settings."""

    nation: str
    partners: tuple[str, ...]
    rel_to: tuple[str, ...]  # releasability of the node's own tracks (itself implied)
    share_interval_s: float = 5.0
    # Items may travel for hours on a relay (TISA); the window must let them in.
    window: Window = field(default_factory=lambda: Window(past_ns=3 * 3600 * NS_PER_S))
    # An envelope that looks to come from the future (this node's clock behind the
    # sender's) is not refused for good if it is at most this far beyond the window's
    # future limit: the driver delivers it again later (NodeOutput.retry_after_s), at
    # the latest every retry_every_s, until its time is inside the window.
    retry_future_s: float = 3600.0
    retry_every_s: float = 10.0


@dataclass(frozen=True)
class Outgoing:
    """A message for the transport: to ``next_hop``, not before ``send_at_s``."""

    next_hop: str
    msg_id: str
    data: bytes
    priority: int
    send_at_s: float


@dataclass
class NodeOutput:
    outgoing: list[Outgoing] = field(default_factory=list)
    track_events: list[TrackEvent] = field(default_factory=list)
    accepted: list[Envelope] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    hotline: DeskOutput = field(default_factory=DeskOutput)
    # Contract C2: what the node decided, for drivers and faces.
    warnings: list[WarningEvent] = field(default_factory=list)  # CAP messages issued
    assessments: list[tuple[str, Assessment]] = field(default_factory=list)  # (fused id, …)
    consultations_opened: list[str] = field(default_factory=list)
    # (fused track id, consultation id) for each significant track raised on the hotline.
    consultations_raised: list[tuple[str, str]] = field(default_factory=list)
    kind_events: list[object] = field(default_factory=list)  # from plug-ins (contract C1)
    picture_changed: bool = False
    assessed_s: float | None = None  # the time of the assessment round it ran, if any
    # The message was not taken but is not refused for good either (it looks to come from
    # the future): the driver hands it back to the transport unacknowledged, to be
    # delivered again after this many seconds of node time. None: done with it.
    retry_after_s: float | None = None

    def extend(self, other: NodeOutput) -> NodeOutput:
        """Append ``other`` (a later step at the same input) to this output."""
        self.outgoing += other.outgoing
        self.track_events += other.track_events
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.hotline.extend(other.hotline)
        self.warnings += other.warnings
        self.assessments += other.assessments
        self.consultations_opened += other.consultations_opened
        self.consultations_raised += other.consultations_raised
        self.kind_events += other.kind_events
        self.picture_changed = self.picture_changed or other.picture_changed
        if other.assessed_s is not None:
            self.assessed_s = other.assessed_s
        if other.retry_after_s is not None:
            self.retry_after_s = other.retry_after_s
        return self


class NationalNode:
    """See the module docstring."""

    def __init__(self, config: NodeConfig, policy: Policy, key: NodeKey, registry: KeyRegistry,
                 epoch: dt.datetime, audit: AuditLog | None = None,
                 tracker_config: TrackerConfig | None = None,
                 desk_config: DeskConfig | None = None,
                 watch_config: WatchConfig | None = None,
                 plugins: Sequence[KindPlugin] = ()) -> None:
        if key.nation != config.nation:
            raise ValueError(f"key of {key.nation} given to the node of {config.nation}")
        self._plugins: dict[Kind, KindPlugin] = {}
        for plugin in plugins:
            for kind in plugin.kinds:
                if kind in _BUILT_IN or kind in self._plugins:
                    raise ValueError(f"two handlers for the {kind} kind on {config.nation}")
                self._plugins[kind] = plugin
        self.plugins: tuple[KindPlugin, ...] = tuple(plugins)
        self.config = config
        self.nation = config.nation
        self.policy = policy
        self.epoch = epoch
        self.audit = audit
        self.tracker = Tracker(config.nation, tracker_config)
        self.signer = Signer(key)
        self.verifier = Verifier(config.nation, registry, config.window)
        if audit is not None:
            # Refuse what an earlier run took, continue its seq, sign checkpoints (restart-safe).
            audit.attach(self.verifier, self.signer)
        self.picture = FusedPicture(config.nation)
        self.hotline = HotlineDesk(config.nation, policy, epoch, key, registry,
                                   (config.nation, *config.partners), desk_config)
        self.watch = Watch(config.nation, epoch, watch_config)
        self.rel_to = tuple(sorted(set(config.rel_to) | {config.nation}))
        self._last_shared: dict[str, float] = {}
        # When each partner track ("NATION/track id") first reached this node.
        self.first_seen: dict[str, float] = {}
        whole = epoch.replace(microsecond=0)
        self._epoch_ns = int(whole.timestamp()) * NS_PER_S + epoch.microsecond * 1000

    # -- time -------------------------------------------------------------------------
    def _when(self, t_s: float) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=t_s)

    def _ns(self, t_s: float) -> int:
        """UTC nanoseconds since the Unix epoch (exact integer arithmetic for the epoch)."""
        return self._epoch_ns + round(t_s * NS_PER_S)

    # -- own sensors ------------------------------------------------------------------
    def on_scan(self, scan: ScanLike) -> NodeOutput:
        """Track a scan of one of the node's radars; share and fuse what changed."""
        out = NodeOutput()
        events = self.tracker.process(scan)
        out.track_events = events
        updates = []
        to_share: list[TrackEvent] = []
        for e in events:
            if e.kind == EventKind.DELETED:
                # The picture keeps the track's last state (history); fusion ages it out.
                self._last_shared.pop(e.track_id, None)
            elif e.kind == EventKind.UPDATED:
                updates.append(SourceTrack(self.nation, e.track_id, e.t_s, e.x, e.P,
                                           e.powered_probability))
                last = self._last_shared.get(e.track_id)
                if last is None or e.t_s - last >= self.config.share_interval_s:
                    self._last_shared[e.track_id] = e.t_s
                    to_share.append(e)
        if to_share:
            out.outgoing += self._share(to_share)
        if updates:
            self.picture.update(updates)
            out.picture_changed = True
        out.outgoing += self._checkpoints_out(scan.t_s)
        return out

    def _share(self, batch: Sequence[TrackEvent]) -> list[Outgoing]:
        payload = encode_tracks(batch)
        t_s = max(e.t_s for e in batch)
        when = self._when(t_s)
        sent: list[Outgoing] = []
        for partner in sorted(self.config.partners):
            route = self.policy.route(self.nation, partner, Kind.MISSILE_TRACK, when,
                                      self.rel_to, self.nation)
            if isinstance(route, Denied):
                continue
            via = (route.via,) if isinstance(route, Relay) else ()
            env = self.signer.seal(kind=Kind.MISSILE_TRACK, originator=self.nation,
                                   rel_to=self.rel_to, recipient=partner, payload=payload,
                                   created_ns=self._ns(t_s), via=via)
            data = encode(env)
            if self.audit is not None:
                self.audit.log_sent(env, data, self._ns(t_s))
            hop_latency = (route.latency_s if isinstance(route, Direct)
                           else 0.5 * (route.latency_s - route.relay_delay_s))
            sent.append(Outgoing(via[0] if via else partner, f"{self.nation}:{env.seq}", data,
                                 0, t_s + hop_latency))
        return sent

    # -- from partners ----------------------------------------------------------------
    def on_message(self, data: bytes, now_s: float, deliverer: str | None = None) -> NodeOutput:
        """Check a received message; fuse it, forward it, or reject it (and log why).

        ``deliverer``: the transport's authenticated sender (contract C4), if known. A
        partner's signed audit checkpoint is kept in the audit (it anchors their log)."""
        if is_checkpoint(data):
            out = NodeOutput()
            if self.audit is not None:
                why = self.audit.receive_checkpoint(data, self.verifier.registry, deliverer,
                                                    self._ns(now_s))
                out.rejected += [] if why is None else [f"checkpoint: {why}"]
            return out
        out = self._on_message(data, now_s, deliverer)
        out.outgoing += self._checkpoints_out(now_s)
        return out

    def _checkpoints_out(self, t_s: float) -> list[Outgoing]:
        """The audit checkpoints signed since the last call, one copy for each partner
        (counts and a hash, no shared data: no agreement needed to send them)."""
        if self.audit is None:
            return []
        # The id names the partner: a bus drops a second send of one id by one sender.
        return [Outgoing(p, f"{self.nation}:cp:{p}:{hashlib.sha256(d).hexdigest()[:16]}", d, 0,
                         t_s) for d in self.audit.take_checkpoints()
                for p in sorted(self.config.partners)]

    def _on_message(self, data: bytes, now_s: float, deliverer: str | None) -> NodeOutput:
        out = NodeOutput()
        now_ns = self._ns(now_s)
        # The hop that brought it must be the one its path names (relay stamp, deliverer).
        delivery = check_delivery(data, deliverer, self.nation, self.verifier.registry,
                                  self.policy, self._when(now_s), now_ns, self.config.window)
        if delivery.problem is not None:
            if self.audit is not None:
                self.audit.log_refused(now_ns, delivery.envelope, data, "path",
                                       delivery.problem, peer=deliverer)
            out.rejected.append(f"path: {delivery.problem}")
            return out
        data = delivery.data
        result = self.verifier.check(data, now_ns, delivery.envelope)
        if isinstance(result, Rejection):
            retry_s = self._retry_s(result, now_ns)
            if retry_s is not None:
                result = Rejection(result.reason, f"{result.detail}; to be delivered again "
                                   f"in {retry_s:g} s", result.envelope)
                out.retry_after_s = retry_s
            self._log_check(result, data, now_ns)
            out.rejected.append(f"{result.reason}: {result.detail}")
            return out
        env = result.envelope
        if env.originator != env.sender:
            # Nodes sign only what they originate; relays forward the originator's signed
            # bytes unchanged. Anything else would let one partner speak for another.
            detail = (f"originator {env.originator} is not the signer {env.sender}: a node "
                      "may only sign what it originates")
            self._audit_reject(now_ns, env, detail, reason="policy")
            out.rejected.append(f"policy: {detail}")
            return out
        when = self._when(now_s)
        final = env.recipient
        verdict = self.policy.may_receive(
            self.nation, env.sender, env.kind, when, env.rel_to, env.originator,
            final_recipient=None if final == self.nation else final)
        if final == self.nation and env.via:
            # Relayed to us: the policy must route sender → us through that relay.
            route = self.policy.route(env.sender, self.nation, env.kind, when, env.rel_to,
                                      env.originator)
            ok = isinstance(route, Relay) and route.via == env.via[-1]
            verdict = verdict._replace(allowed=ok, reason=route.reason)
        if not verdict.allowed:
            if self.audit is not None:
                self.audit.append(now_ns, Direction.REJECTED, peer=env.sender, kind=env.kind,
                                  seq=env.seq, reason="policy", detail=verdict.reason)
            out.rejected.append(f"policy: {verdict.reason}")
            return out
        self._log_check(result, data, now_ns)
        out.accepted.append(env)
        if final != self.nation:
            route = self.policy.route(env.sender, final, env.kind, when, env.rel_to,
                                      env.originator)
            assert isinstance(route, Relay)
            hop = 0.5 * (route.latency_s - route.relay_delay_s)
            # Our signature binds the path: who carried it, to whom, and when.
            relayed = stamp(self.signer.key, data, final, self._ns(now_s + route.relay_delay_s))
            if self.audit is not None:
                self.audit.log_relayed(env, relayed, now_ns, final)
            out.outgoing.append(Outgoing(final, f"{env.sender}:{env.seq}", relayed, 0,
                                         now_s + route.relay_delay_s + hop))
            return out
        if env.kind in (Kind.HOTLINE, Kind.STATEMENT):
            try:
                self._on_hotline(env, now_s, out)
            except (ValueError, OverflowError, KeyError) as exc:
                # A signed item that slips past decoding's checks is still only refused.
                detail = f"hotline item refused: {type(exc).__name__}: {exc}"
                self._audit_reject(now_ns, env, detail)
                out.rejected.append(f"hotline: {detail}")
            return out
        if env.kind == Kind.MISSILE_TRACK:
            checked = decode_checked(env.payload, now_s)
            if isinstance(checked, TrackRejection):
                # Signed but insane: refused whole, audited, the picture untouched.
                self._audit_reject(now_ns, env, checked.detail, reason="payload")
                out.rejected.append(f"payload: {checked.detail}")
                return out
            tracks = checked.batch.tracks
            for p in tracks:
                self.first_seen.setdefault(f"{env.originator}/{p.track_id}", now_s)
            # The decoder built the arrays once for its checks: the picture takes rows.
            self.picture.update([SourceTrack(env.originator, p.track_id, p.t_s,
                                             checked.x[i], checked.P[i],
                                             p.powered_probability)
                                 for i, p in enumerate(tracks)], checked=True)
            out.picture_changed = True
            return out
        plugin = self._plugins.get(env.kind)
        if plugin is not None:
            try:
                done = plugin.on_envelope(env, now_s)
            except (ValueError, OverflowError, KeyError) as exc:
                detail = f"{env.kind} item refused: {type(exc).__name__}: {exc}"
                self._audit_reject(now_ns, env, detail, reason="payload")
                out.rejected.append(f"payload: {detail}")
                return out
            out.extend(self._carry_out(done, now_s))
        return out

    # -- hotline ----------------------------------------------------------------------
    def emit(self, desk_out: DeskOutput, t_s: float) -> NodeOutput:
        """Seal a desk's orders into envelopes and audit its notes (see :meth:`hotline`)."""
        out = NodeOutput(hotline=desk_out)
        for send in desk_out.sends:
            out.outgoing.append(self._seal(send, t_s))
        if self.audit is not None:
            for note in desk_out.notes:
                self.audit.append(self._ns(note.t_s), Direction(note.direction),
                                  peer=note.peer, kind=note.kind,
                                  reason="hotline" if note.direction == "rejected" else None,
                                  detail=note.detail)
        return out

    def tick(self, t_s: float, *, assess: bool = True) -> NodeOutput:
        """Time passes: the desk's escalation steps and lapses, the plug-ins' deadlines
        and, when due, an assessment round (:meth:`next_wakeup_s` says when next).
        ``assess=False``: all but the round (a driver that takes the round apart,
        :meth:`begin_round`)."""
        wake = self.hotline.next_wakeup_s()
        out = (self.emit(self.hotline.tick(t_s), t_s) if wake is not None and wake <= t_s
               else NodeOutput())
        for plugin in self.plugins:
            wake = plugin.next_wakeup_s()
            if wake is not None and wake <= t_s:
                out.extend(self._carry_out(plugin.tick(t_s), t_s))
        out.outgoing += self._checkpoints_out(t_s)
        if assess and self.watch.due(t_s):
            out.extend(self._assess(t_s))
        return out

    def next_wakeup_s(self) -> float | None:
        """When :meth:`tick` next has something to do (None: only on input)."""
        times = [t for t in (self.hotline.next_wakeup_s(), self.watch.next_round_s(),
                             *(p.next_wakeup_s() for p in self.plugins)) if t is not None]
        return min(times) if times else None

    def close(self, t_s: float) -> NodeOutput:
        """The node stops watching: every warning still out lapses at its own time."""
        return NodeOutput(warnings=self.watch.close())

    def join_facts(self, consultation: str) -> dict[str, object]:
        """What this nation adds when its authorities join ``consultation``."""
        return self.watch.join_facts(consultation)

    def carry(self, done: PluginOutput, t_s: float) -> NodeOutput:
        """A plug-in's output from a local action (an analyst raises an item): seal its
        sends along the agreements' routes and audit its notes, as for received input."""
        return self._carry_out(done, t_s)

    # -- warnings and consultations ---------------------------------------------------
    def _assess(self, t_s: float) -> NodeOutput:
        job = RoundJob(t_s, self.fused(), alone=False)
        self.run_round(job)
        return self.finish_round(job)

    def begin_round(self, t_s: float) -> RoundJob | None:
        """The assessment round due at ``t_s`` taken apart (None if none is due): the
        fresh part of the picture, copied now, so that :meth:`run_round` — the warning
        centre's work, most of a round's time — may run on another thread while the
        node goes on taking inputs; :meth:`finish_round` then seals what it decided.

        Only when ``job.alone``: the round touches nothing but the watch (no automatic
        opener working the desk, no announced launches marking drills in the picture's
        readers' view). Otherwise run it in place (``run_round`` then ``finish_round``
        at once) or call :meth:`tick`. The decisions are the same either way: the round
        sees the picture as it was at ``t_s``. Until ``finish_round`` the node must not
        begin another round or :meth:`close`."""
        if not self.watch.due(t_s):
            return None
        self.watch.last_round_s = t_s  # the round is under way: next one not before
        picture = [FusedObject(o.fused_id, dict(o.sources), o.t_s, o.x.copy(), o.P.copy(),
                               o.powered_probability)
                   for o in self.watch.fresh(self.fused(), t_s)]
        alone = self.watch.opener is None and not self.watch.config.announced
        return RoundJob(t_s, picture, alone)

    def run_round(self, job: RoundJob) -> None:
        """The round's work (see :meth:`begin_round`); its decisions go in ``job``."""
        job.result = self.watch.round(job.t_s, job.picture, self.hotline)

    def finish_round(self, job: RoundJob) -> NodeOutput:
        """Seal and audit what a round decided (on the node's own thread)."""
        r, t_s = job.result, job.t_s
        if r is None:
            raise ValueError(f"the round at {t_s} s has not run")
        out = self.emit(r.desk, t_s)
        out.warnings, out.assessments, out.assessed_s = r.warnings, r.assessments, t_s
        out.consultations_raised = [(track, cid) for track, cid, _ in r.raised]
        out.consultations_opened = [cid for _, cid, opened in r.raised if opened]
        return out

    # -- plug-ins (contract C1) -------------------------------------------------------
    def _carry_out(self, done: PluginOutput, t_s: float) -> NodeOutput:
        """Seal a plug-in's sends along the agreements' routes; audit its notes."""
        out = NodeOutput(kind_events=list(done.events))
        when = self._when(t_s)
        for send in done.sends:
            rel_to = tuple(sorted(set(send.rel_to) | {self.nation}))
            route = self.policy.route(self.nation, send.to, send.kind, when, rel_to,
                                      self.nation)
            if isinstance(route, Denied):
                if self.audit is not None:
                    self.audit.append(self._ns(t_s), Direction.REJECTED, peer=send.to,
                                      kind=send.kind, reason="policy",
                                      detail=f"not sent: {route.reason}")
                out.rejected.append(f"policy: not sent to {send.to}: {route.reason}")
                continue
            via = (route.via,) if isinstance(route, Relay) else ()
            env = self.signer.seal(kind=send.kind, originator=self.nation, rel_to=rel_to,
                                   recipient=send.to, payload=send.payload,
                                   created_ns=self._ns(t_s), via=via)
            data = encode(env)
            if self.audit is not None:
                self.audit.log_sent(env, data, self._ns(t_s))
            hop = (route.latency_s if isinstance(route, Direct)
                   else 0.5 * (route.latency_s - route.relay_delay_s))
            out.outgoing.append(Outgoing(via[0] if via else send.to,
                                         f"{self.nation}:{env.seq}", data, send.priority,
                                         t_s + hop))
        if self.audit is not None:
            for note in done.notes:
                self.audit.append(self._ns(note.t_s), Direction(note.direction),
                                  peer=note.peer, kind=note.kind,
                                  reason="payload" if note.direction == "rejected" else None,
                                  detail=note.detail)
        return out

    def _seal(self, send: Send, t_s: float) -> Outgoing:
        created = self._ns(t_s)
        env = self.signer.seal(kind=send.kind, originator=self.nation, rel_to=send.rel_to,
                               recipient=send.to, payload=send.payload, created_ns=created)
        data = encode(env)
        if self.audit is not None:
            self.audit.log_sent(env, data, created)
        if send.via is None:
            return Outgoing(send.to, f"{self.nation}:{env.seq}", data, 1,
                            t_s + send.latency_s)
        outer = self.signer.seal(kind=send.kind, originator=self.nation, rel_to=send.rel_to,
                                 recipient=send.via, created_ns=created,
                                 payload=encode_item(Forward(send.to, data)))
        wire = encode(outer)
        if self.audit is not None:
            self.audit.log_sent(outer, wire, created)
        hop = self.hotline.routes(send.via, send.kind, send.rel_to, t_s)
        first = hop[0][1] if hop and hop[0][0] is None else send.latency_s
        return Outgoing(send.via, f"{self.nation}:{outer.seq}", wire, 1, t_s + first)

    def _on_hotline(self, env: Envelope, now_s: float, out: NodeOutput) -> None:
        """A hotline or statement envelope addressed to this node (already checked)."""
        now_ns = self._ns(now_s)
        try:
            item = decode_item(env.payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            out.rejected.append(f"payload: {exc}")
            self._audit_reject(now_ns, env, f"malformed hotline item: {exc}")
            return
        if not isinstance(item, Forward):
            emitted = self.emit(self.hotline.on_item(env.sender, env.payload, now_s), now_s)
            out.hotline.extend(emitted.hotline)
            out.outgoing += emitted.outgoing
            return
        inner_data = item.inner
        if item.to != self.nation:
            self._carry(env, item, now_s, out)
            return
        # Carried to us by env.sender: the inner envelope must be the origin's, for us,
        # and the origin must be allowed to hand it to that carrier.
        result = self.verifier.check(inner_data, now_ns)
        if isinstance(result, Rejection):
            self._log_check(result, inner_data, now_ns)
            out.rejected.append(f"{result.reason}: {result.detail} (forwarded)")
            return
        inner = result.envelope
        hop = self.policy.route(inner.sender, env.sender, inner.kind, self._when(now_s),
                                inner.rel_to, inner.originator)
        if not isinstance(hop, Direct) or inner.recipient != self.nation:
            detail = (f"{inner.sender}'s envelope carried by {env.sender}: "
                      + (hop.reason if not isinstance(hop, Direct) else "not for us"))
            self._audit_reject(now_ns, inner, detail)
            out.rejected.append(f"policy: {detail}")
            return
        self._log_check(result, inner_data, now_ns)
        if inner.originator != inner.sender:
            detail = f"{inner.sender}'s forwarded envelope names originator {inner.originator}"
            self._audit_reject(now_ns, inner, detail, reason="policy")
            out.rejected.append(f"policy: {detail}")
            return
        desk = self.hotline.on_item(inner.sender, inner.payload, now_s)
        emitted = self.emit(desk, now_s)
        out.hotline.extend(emitted.hotline)
        out.outgoing += emitted.outgoing

    def _carry(self, env: Envelope, item: Forward, now_s: float, out: NodeOutput) -> None:
        """Pass another nation's envelope on to ``item.to`` if our agreements allow."""
        now_ns = self._ns(now_s)
        inner = decode(item.inner)
        if isinstance(inner, Rejection):
            self._audit_reject(now_ns, env, f"forward: inner envelope {inner.detail}")
            out.rejected.append(f"forward: {inner.detail}")
            return
        route = self.policy.route(self.nation, item.to, inner.kind, self._when(now_s),
                                  inner.rel_to, inner.originator)
        if (inner.recipient != item.to or inner.sender != env.sender
                or inner.kind not in (Kind.HOTLINE, Kind.STATEMENT)
                or not isinstance(route, Direct)):
            why = (route.reason if not isinstance(route, Direct)
                   else "inner envelope is not the sender's hotline or statement envelope "
                        "for that recipient")
            self._audit_reject(now_ns, env, f"forward to {item.to} refused: {why}")
            out.rejected.append(f"forward: {why}")
            return
        outer = self.signer.seal(kind=inner.kind, originator=self.nation, rel_to=inner.rel_to,
                                 recipient=item.to, created_ns=now_ns,
                                 payload=encode_item(Forward(item.to, item.inner)))
        wire = encode(outer)
        if self.audit is not None:
            self.audit.log_relayed(inner, item.inner, now_ns, item.to)
            self.audit.log_sent(outer, wire, now_ns)
        out.outgoing.append(Outgoing(item.to, f"{self.nation}:{outer.seq}", wire, 1,
                                     now_s + route.latency_s))

    def _retry_s(self, result: Rejection, now_ns: int) -> float | None:
        """When to try again an envelope refused only for coming from the future (None:
        refused for good). Too old is final; from the future may be this node's clock
        running behind, so it comes back once its time is inside the window (sooner if
        the clock is put right meanwhile), unless it is from too far ahead."""
        env = result.envelope
        if result.reason != Reason.OUT_OF_WINDOW or env is None:
            return None
        ahead_s = (env.created_ns - now_ns - self.config.window.future_ns) / NS_PER_S
        if not 0.0 < ahead_s <= self.config.retry_future_s:
            return None
        return float(min(max(math.ceil(ahead_s), 1.0), self.config.retry_every_s))

    def _audit_reject(self, t_ns: int, env: Envelope, detail: str,
                      reason: str = "hotline") -> None:
        if self.audit is not None:
            self.audit.append(t_ns, Direction.REJECTED, peer=env.sender, kind=env.kind,
                              seq=env.seq, reason=reason, detail=detail)

    def _log_check(self, result: Accepted | Rejection, data: bytes, t_ns: int) -> None:
        if self.audit is not None:
            self.audit.log_check(result, data, t_ns)

    # -- the picture ------------------------------------------------------------------
    def fused(self) -> list[FusedObject]:
        """The node's fused picture: one object per missile, with its sources."""
        return self.picture.objects()


@dataclass
class RoundJob:
    """One assessment round taken apart (:meth:`NationalNode.begin_round`): its time,
    the picture it assesses, whether it may run beside the node's other work, and (once
    run) what the watch decided."""

    t_s: float
    picture: list[FusedObject]
    alone: bool
    result: Round | None = None


_BUILT_IN = frozenset({Kind.MISSILE_TRACK, Kind.HOTLINE, Kind.STATEMENT})


def partners_of(nation: str, nations: Sequence[str]) -> tuple[str, ...]:
    return tuple(n for n in nations if n != nation)
