## Jobs on the clock: birthday and win-back vouchers, expiring points, tier nudges, the owner's
## settings and /jobs. Every key here must also be in vi/scheduler.ftl.
## Offers: the sender adds the [AD] label and the way to stop; a voucher comes as the picture.

offer-points-expiring = ⏳ { $name }, { $points ->
        [one] 1 of your points expires
       *[other] { $points } of your points expire
    } in the next 7 days, the first on { $date }. Send /rewards to turn them into a treat first!
offer-tier-nudge = 🏅 { $name }, just { $points ->
        [one] 1 more point
       *[other] { $points } more points
    } to reach { $tier }! See you soon at { $shop }.

## Settings (owner)

settings-birthday = • Birthday gift: «{ $title }» (reward { $id }), sent { $days } days before the birthday
settings-birthday-off = • Birthday gift: off
settings-winback = • Win-back gift: «{ $title }» (reward { $id }) for members away { $days } days
settings-winback-off = • Win-back gift: off
settings-offer-unavailable = ⚠️ Reward { $id } no longer exists or is paused: nothing is sent until you choose another.
settings-offers-help =
    /settings birthday 3 2 — give reward 3, 2 days before the birthday (0–30), or: /settings birthday off
    /settings winback 4 21 — give reward 4 to members away 21 days (7–365), or: /settings winback off
settings-error-reward-unknown = There is no reward with that number. Send /rewards to see their numbers.
settings-error-reward-paused = That reward is paused. Resume it with /rewards resume <number>, then choose it again.
settings-error-birthday-days = Days before the birthday must be between 0 and 30.
settings-error-winback-days = Days away must be between 7 and 365.

## /jobs (owner)

command-jobs = Scheduled jobs
jobs-title = ⏰ Scheduled jobs (the shop's time):
jobs-line = • { $job } — daily at { $time }
jobs-never = {"  "}Has not run yet.
jobs-running = {"  "}Running (for { $date }).
jobs-last = {"  "}Last run: { $date }, finished at { $time } — { $outcome }
jobs-next = {"  "}Next run: { $time } on { $date }
jobs-name-expire-points = Write off expired points
jobs-name-expire-vouchers = Mark expired vouchers
jobs-name-analyze = Customer analysis (segments, churn risk)
jobs-name-forget-updates = Forget handled chat updates (after a day)
jobs-name-birthday = Birthday gifts
jobs-name-winback = Win-back gifts
jobs-name-points-expiring = Expiring points reminders
jobs-name-tier-nudge = Next tier nudges
jobs-outcome-members = { $count ->
        [one] 1 member had points expire
       *[other] { $count } members had points expire
    }
jobs-outcome-vouchers = { $count ->
        [one] 1 voucher expired
       *[other] { $count } vouchers expired
    }
jobs-outcome-offers = { $count ->
        [one] 1 voucher given
       *[other] { $count } vouchers given
    }
jobs-outcome-reminders = { $count ->
        [one] 1 member reminded
       *[other] { $count } members reminded
    }
jobs-outcome-nudges = { $count ->
        [one] 1 member nudged
       *[other] { $count } members nudged
    }
jobs-outcome-no-reward = no reward chosen, nothing sent (see /settings)
jobs-outcome-reward-unavailable = ⚠️ reward { $id } no longer exists or is paused, nothing sent (see /settings)
jobs-outcome-updates = { $count ->
        [one] 1 update forgotten
       *[other] { $count } updates forgotten
    }
jobs-outcome-failed = ⚠️ failed, see the bot's log
