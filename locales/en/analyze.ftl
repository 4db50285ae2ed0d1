## `quen analyze` as text (bot/reports.py); its --json stays as it is, for programs.

analyze-title = analysis as of { $date }: { $members ->
        [one] { $members } member
       *[other] { $members } members
    } in { NUMBER($seconds, minimumFractionDigits: 2, maximumFractionDigits: 2) } s
analyze-segments = segments (RFM):
analyze-active = active in the last 30 days, by segment:
analyze-active-of = { $active } of { $members }
analyze-kpis = KPIs, last 30 days:
analyze-bgnbd = BG/NBD (time unit: days, { $members } members): r={ $r } alpha={ $alpha } a={ $a } b={ $b } log-likelihood={ $fit }
analyze-gamma = Gamma-Gamma (VND, { $members } repeat members): p={ $p } q={ $q } v={ $v } mean spend={ $spend } log-likelihood={ $fit }
analyze-not-fitted = churn model not fitted: { $reason } (the gap rule is used instead)
