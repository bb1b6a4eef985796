"""Draws the tracking consistency figures of docs/tracking.md (needs matplotlib):

- docs/img/tracking_pcrlb.png: position and velocity RMSE against the PCRLB (coast);
- docs/img/tracking_nees.png: run-averaged NEES with its 95 % band (tracks from boost).

    python tools/plot_tracking.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import chi2

from trilink.analysis.consistency import compare_with_pcrlb, monte_carlo

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    out = ROOT / "docs/img"
    out.mkdir(parents=True, exist_ok=True)
    coast = monte_carlo(t_start_s=100.0)
    cmp = compare_with_pcrlb(coast)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=110)
    axes[0].semilogy(cmp.t_s, cmp.rmse_pos_m, label="trilink IMM-EKF RMSE")
    axes[0].semilogy(cmp.t_s, cmp.bound_pos_m, "--", label="PCRLB")
    axes[0].set_ylabel("position (m)")
    axes[1].semilogy(cmp.t_s, cmp.rmse_vel_m_s, label="trilink IMM-EKF RMSE")
    axes[1].semilogy(cmp.t_s, cmp.bound_vel_m_s, "--", label="PCRLB")
    axes[1].set_ylabel("velocity (m/s)")
    for ax in axes:
        ax.set_xlabel("time since launch (s)")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f"2022-10-04 Hwasong-12, J/FPS-5 Ominato, {coast.truth.size} runs: "
                 f"RMSE/PCRLB = {cmp.ratio_pos:.2f} (position), {cmp.ratio_vel:.2f} (velocity)")
    fig.tight_layout()
    fig.savefig(out / "tracking_pcrlb.png")

    boost = monte_carlo()
    t, mean, lo, hi = [], [], [], []
    for k, nees in enumerate(boost.nees):
        n = nees.size
        if n < 50:
            continue
        t.append(boost.t_s[k])
        mean.append(nees.mean())
        lo.append(chi2.ppf(0.025, 6 * n) / n)
        hi.append(chi2.ppf(0.975, 6 * n) / n)
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    ax.plot(t, mean, label="run-averaged NEES (6 states)")
    ax.fill_between(t, lo, hi, alpha=0.25, label="95 % chi-square band")
    ax.axhline(6.0, color="k", lw=0.5)
    ax.set_xlabel("time since launch (s)")
    ax.set_ylabel("NEES")
    ax.set_ylim(0, 12)
    ax.legend()
    ax.grid(alpha=0.3)
    inside = np.mean([a <= m <= b for m, a, b in zip(mean, lo, hi, strict=True)])
    ax.set_title(f"Tracks started in the boost phase, {boost.truth.size} runs: "
                 f"{100 * inside:.0f} % of scans inside the band")
    fig.tight_layout()
    fig.savefig(out / "tracking_nees.png")
    print(f"ratio pos {cmp.ratio_pos:.3f} vel {cmp.ratio_vel:.3f}; NEES inside {inside:.3f}; "
          f"mean {np.mean(mean):.2f}; coverage {boost.coverage.mean():.3f}")


if __name__ == "__main__":
    main()
