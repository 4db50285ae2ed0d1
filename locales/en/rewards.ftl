## Rewards and vouchers. Every key here must also be in vi/rewards.ftl.

command-rewards = Turn points into rewards
command-vouchers = My vouchers
command-redeem = Redeem a voucher by code
command-voucher = Void a voucher (owner)

voucher-gives-percent = { $value }% off the bill
voucher-gives-amount = { $amount } off
voucher-gives-item = 1 free { $item }
voucher-expires = Valid until: { $date }
voucher-caption =
    🎟️ { $title } — { $gives }
    Valid until { $date }. Show the QR code to staff when you pay (or read out the code { $code }).

rewards-none = There are no rewards yet. Please check back later!
rewards-title = 🎁 You have { $points } points. Pick a reward:
rewards-button = { $title } — { $points } points
rewards-later = • { $title } — { $points } points ({ $missing } more needed)
rewards-confirm = Spend { $points } points on “{ $title }” ({ $gives })? The voucher is valid for { $days } days.
rewards-yes = ✅ Get it
rewards-no = ✖ Not now
rewards-cancelled = Cancelled; your points are untouched.
rewards-done = ✅ Done! Points left: { $points }.
vouchers-none = You have no valid vouchers. Send /rewards to turn points into rewards.
vouchers-title = 🎟️ Your valid vouchers:
vouchers-line = • { $title } — valid until { $date }
vouchers-show = Show card: { $title }
voucher-yours = 🎟️ This is your voucher: { $title }, valid until { $date }, code { $code }. Show it to staff when you pay.
voucher-not-found = That voucher was not found.

voucher-staff-view =
    🎟️ { $title } — { $gives }
    For: { $name } · Valid until: { $date }{ $minimum }
voucher-min-spend = {" "}· Minimum bill: { $amount }
voucher-redeem-button = ✅ Redeem
voucher-redeemed = ✅ Redeemed “{ $title }” for { $name }.
voucher-notice-used = 🎟️ Your voucher “{ $title }” was just used at { $shop }. Enjoy!
alert-code-guessing = ⚠️ { $cashier } typed too many wrong voucher codes; their /redeem is locked for 10 minutes.

voucher-error-not-enough-points = You don't have enough points for this reward yet.
voucher-error-reward-out-of-stock = That reward just ran out. Please pick another.
voucher-error-reward-tier-only = That reward is for a higher tier.
voucher-error-reward-unknown = That reward is no longer available.
voucher-error-reward-cost = The points cost must be more than 0.
voucher-error-reward-days = Validity must be 1 to 366 days.
voucher-error-reward-kind = The kind must be percent, amount or item.
voucher-error-reward-value = That value isn't valid (percent 1–100, amounts from 1,000 ₫, stock not negative).
voucher-error-reward-title = Please give the reward a name.
voucher-error-reward-field = Only these can change: cost, days, minspend, stock, tier, title.
voucher-error-reward-tier = No such tier. Use: member, silver, gold, platinum or none.
voucher-error-already-redeemed = ⛔ This voucher was already used at { $time } on { $date } at { $store }.
voucher-error-expired = ⛔ This voucher expired on { $date }.
voucher-error-voided = ⛔ This voucher was voided.
voucher-error-not-live = This voucher can no longer be used.
voucher-error-locked = Too many wrong codes. Please wait 10 minutes or scan the QR code.

rewards-owner-title = 🎁 Reward catalog:
rewards-owner-line = { $id }. { $title } — { $points } points — { $days } days — stock: { $stock } — { $state }
rewards-active = open
rewards-paused = paused
rewards-stock-unlimited = unlimited
rewards-saved = ✅ Saved “{ $title }”.
rewards-owner-help =
    Add: /rewards add <percent|amount|item> <value> <points> <days> <name>
    e.g. /rewards add percent 20 500 30 20% off · /rewards add item 0 400 14 Bạc xỉu
    Edit: /rewards set <number> <cost|days|minspend|stock|tier|title> <value> · Pause: /rewards pause <number> · Resume: /rewards resume <number>
voucher-void-help = Usage: /voucher void <voucher code>
voucher-voided = Voided “{ $title }”; { $points } points refunded to the customer.
voucher-notice-voided = Your voucher “{ $title }” was cancelled by the shop; { $points } points were refunded.
