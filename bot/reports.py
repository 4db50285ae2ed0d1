"""What ``quen analyze`` prints: for an analyst at a terminal, so plain English or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from loyalty import churn
from loyalty.insight import Analysis, model_params
from loyalty.kpis import Kpis


def analysis_report(
    analysis: Analysis, figures: Kpis, retention: dict[str, tuple[int, int]], as_json: bool
) -> str:
    """``retention``: per segment, (members, of them active in the last 30 days)."""
    model = analysis.model
    kpis = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in asdict(figures).items()
    }
    churn_model = (
        model_params(model)
        if isinstance(model, churn.Fit)
        else {"fitted": False, "reason": model.reason}
    )
    if as_json:
        data = {
            "as_of": analysis.as_of.isoformat(),
            "members": analysis.members,
            "seconds": round(analysis.seconds, 2),
            "segments": analysis.segments,
            "kpis_last_30_days": kpis,
            "active_last_30_days_by_segment": {
                name: {"members": members, "active": active}
                for name, (members, active) in retention.items()
            },
            "churn_model": churn_model,
        }
        return json.dumps(data, ensure_ascii=False, indent=2, default=str)
    lines = [
        f"analysis as of {analysis.as_of.isoformat()}: {analysis.members} members "
        f"in {analysis.seconds:.2f} s",
        "segments (RFM):",
    ]
    lines += [f"  {name:<12} {count:>7}" for name, count in analysis.segments.items()]
    lines.append("active in the last 30 days, by segment:")
    lines += [
        f"  {name:<12} {active:>7} of {members}" for name, (members, active) in retention.items()
    ]
    lines.append("KPIs, last 30 days:")
    lines += [f"  {key:<22} {value}" for key, value in kpis.items()]
    if isinstance(model, churn.Fit):
        b, g = model.bgnbd, model.gamma_gamma
        lines.append(
            f"BG/NBD (time unit: days, {b.n} members): r={b.r:.4f} alpha={b.alpha:.4f} "
            f"a={b.a:.4f} b={b.b:.4f} log-likelihood={b.log_likelihood:.2f}"
        )
        lines.append(
            f"Gamma-Gamma (VND, {g.n} repeat members): p={g.p:.4f} q={g.q:.4f} v={g.v:.2f} "
            f"mean spend={g.mean_spend:,.0f} VND log-likelihood={g.log_likelihood:.2f}"
        )
    else:
        lines.append(f"churn model not fitted: {model.reason} (the gap rule is used instead)")
    return "\n".join(lines)
