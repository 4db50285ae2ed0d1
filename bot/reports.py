"""What ``quen analyze`` prints: for an analyst at a terminal, as text or as JSON.

The text is in the operator's language (``QUEN_DEFAULT_LANGUAGE``) like the rest of ``quen``; the
segment and KPI names in it are identifiers, the JSON's own keys, so the two can be read side by
side. The JSON is for programs and never changes with the language. The churn model's "not
fitted" reason is English in both (it is the JSON's ``reason`` too).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from locales import format_vnd, t
from loyalty import churn
from loyalty.insight import Analysis, model_params
from loyalty.kpis import Kpis


def analysis_report(
    analysis: Analysis,
    figures: Kpis,
    retention: dict[str, tuple[int, int]],
    as_json: bool,
    language: str,
) -> str:
    """``retention``: per segment, (members, of them active in the last 30 days). ``language``
    is for the text report only."""
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
        t(
            language,
            "analyze-title",
            date=analysis.as_of.isoformat(),
            members=analysis.members,
            seconds=analysis.seconds,
        ),
        t(language, "analyze-segments"),
    ]
    lines += [f"  {name:<12} {count:>7}" for name, count in analysis.segments.items()]
    lines.append(t(language, "analyze-active"))
    lines += [
        f"  {name:<12} "
        + t(language, "analyze-active-of", active=f"{active:>7}", members=str(members))
        for name, (members, active) in retention.items()
    ]
    lines.append(t(language, "analyze-kpis"))
    lines += [f"  {key:<22} {value}" for key, value in kpis.items()]
    if isinstance(model, churn.Fit):
        b, g = model.bgnbd, model.gamma_gamma
        lines.append(
            t(
                language,
                "analyze-bgnbd",
                members=b.n,
                r=f"{b.r:.4f}",
                alpha=f"{b.alpha:.4f}",
                a=f"{b.a:.4f}",
                b=f"{b.b:.4f}",
                fit=f"{b.log_likelihood:.2f}",
            )
        )
        lines.append(
            t(
                language,
                "analyze-gamma",
                members=g.n,
                p=f"{g.p:.4f}",
                q=f"{g.q:.4f}",
                v=f"{g.v:.2f}",
                spend=format_vnd(round(g.mean_spend), language),
                fit=f"{g.log_likelihood:.2f}",
            )
        )
    else:
        lines.append(t(language, "analyze-not-fitted", reason=model.reason))
    return "\n".join(lines)
