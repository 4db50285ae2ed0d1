## `quen check` (loyalty/checks.py): a label per line, the problem, the rule, the verdict,
## and why the database could not be read.

cli-check-unreadable = cannot read the database: { $error }

check-label-ok = ok
check-label-fail = FAIL
check-label-warn = WARN
check-found = { $name }: { $count ->
        [one] { $count } { $subject } row
       *[other] { $count } { $subject } rows
    }, e.g. id { $ids }
check-rule = rule: { $rule }
check-summary = { $count } invariants checked in { NUMBER($seconds, minimumFractionDigits: 1, maximumFractionDigits: 1) } s: { $verdict }
check-all-hold = all hold
check-problems = { $broken } broken, { $warnings ->
        [one] { $warnings } warning
       *[other] { $warnings } warnings
    }

check-rule-balance_equals_ledger = the cached points_balance equals the sum of the member's ledger entries
check-rule-balance_equals_lots = points_balance equals the remaining points of all the member's lots (expired lots not yet written off included)
check-rule-balance_not_negative = no member's points_balance is below zero
check-rule-balance_after_running_sum = each entry's balance_after is the running sum of the member's entries (in id order)
check-rule-lot_remaining_in_range = a lot holds a positive number of points and 0 <= remaining <= points
check-rule-lot_remaining_matches_draws = a lot's remaining is its points minus everything drawn from it
check-rule-debit_matches_draws = a debit entry's draws (each positive) add up to its points, a credit has no draws
check-rule-credit_fills_one_lot = a credit entry filled exactly one lot of its size, of its member, a debit none
check-rule-draw_same_member = a draw takes from a lot of the member whose entry it belongs to
check-rule-draw_respects_expiry = spending never takes from a lot expired at the time, expiry only from one that was
check-rule-expiry_overdue = points of lots expired more than two days ago were written off by the nightly job
check-rule-voucher_redeemed_iff_redeemed_at = a voucher is redeemed exactly when it has a redemption time
check-rule-voucher_paid_once = a reward voucher is paid by one spend entry of its member, its own, and only reward vouchers are paid
check-rule-voucher_spend_has_voucher = points taken for a voucher (key voucher:...) went into a voucher
check-rule-voucher_refund_iff_voided = a voided paid voucher gave back exactly its cost once, and no other voucher was refunded (so none is both voided and redeemed)
check-rule-refund_has_voucher = every refund entry belongs to a voucher
check-rule-purchase_earned_its_points = a purchase with points has its earn entry of the same points and member, and one without has none
check-rule-voided_purchase_reversed = an undone purchase took its points back (a reversal of at most its points, unless none were left), and only undone purchases have reversals
check-rule-outbox_has_account = a message waiting to be sent (queued or claimed) has an existing chat account
check-rule-outbox_has_customer = a message's member exists, and nothing is still to send to an erased member
check-rule-outbox_has_voucher = a message about a voucher points at an existing voucher
check-rule-outbox_dedupe_unique = one message per (account, dedupe key): the unique index's promise, checked anyway
check-rule-outbox_stale_lease = no claimed or sending message's lease ended over 30 minutes ago (a sender died and no process recovers its rows)
check-rule-campaign_voucher_in_sent_arm = only members of a campaign's sent arm got its voucher, and it is their own
