"""Which tracks does each nation's warning centre mark non-ballistic, per scenario?

    python tools/nonballistic_flags.py [SCENARIO ...]     # default: every shipped one

One line per scenario: the seconds it took and, per nation, the marked tracks with the
scenario time each was marked (trilink/warning/path.py). A ballistic replay should list
none; the what-if glide scenario should list its glider.
"""

from __future__ import annotations

import sys
import time

from trilink.sharing.policy import policy_for
from trilink.sim.flights import fly_scenarios
from trilink.sim.run import simulate
from trilink.sim.scenario import load_scenario, shipped_scenarios
from trilink.sim.truth import Truth


def main(argv: list[str]) -> int:
    for sid in argv or shipped_scenarios():
        t0 = time.perf_counter()
        sc = load_scenario(sid)
        truth = Truth.from_launch_flights(fly_scenarios([sc]))
        sim = simulate(sc, truth, policy_for(sc.regime, sc.date), 0)
        marked = {n: {tid: round(tr.marked_t_s, 1)
                      for tid, tr in sorted(sim.run.nodes[n].watch.center.path.tracks().items())
                      if tr.non_ballistic}
                  for n in sim.nations}
        print(f"{sc.id}: {time.perf_counter() - t0:.1f} s, marked {marked}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
