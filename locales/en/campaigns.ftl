## /campaign and /campaigns: an owner sends an offer to an audience and measures it against a holdout.

command-campaign = Create an offer campaign
command-campaigns = Campaign results

campaign-ask-audience = 📣 New campaign. Who is it for? (Only members who agreed to receive offers.)
campaign-tier-button = { $tier } tier ({ $count })
campaign-lapsed-button = Not seen for N days…
campaign-all-button = All members ({ $count })
campaign-cancel-button = ✖ Cancel
campaign-ask-lapsed = Not seen for how many days? Send a number from { $least } to { $most }, e.g. 30.
campaign-audience-empty = No member of this group has agreed to receive offers. Please pick another group.
campaign-ask-offer = What is the offer? Pick a reward, or make a one-off voucher for this campaign.
campaign-oneoff-button = ✏️ One-off voucher…
campaign-ask-oneoff =
    Send the voucher's offer:
    • 20% — 20% off
    • 30000 or 30k — 30,000 ₫ off
    • Iced latte — one free item (type its name)
campaign-oneoff-bad = I did not understand that offer. Try: 20%, 30k or an item name (without numbers).
campaign-title-percent = { $value }% off
campaign-title-amount = { $amount } off
campaign-title-item = Free { $item }
campaign-ask-days = How long is the voucher valid? Pick one, or send a number of days (1–{ $most }) or the last day, e.g. 31/12.
campaign-days-button = { $days } days
campaign-ask-holdout = What share of members should get nothing, to measure the effect? From { $least }% to { $most }%; { $default }% is a good choice.
campaign-holdout-none = With nobody held out there is no way to tell whether the campaign worked.
campaign-holdout-all = Holding everybody out would send the offer to no one.
campaign-ask-when = When should it go out? Pick one, or send a time (18:00) or a day and time (24/12 09:30).
campaign-when-now = Send now
campaign-when-usual = At each member's usual hour
campaign-when-at = At { $time } on { $date }
campaign-when-bad = That time is not valid or has passed (at most 30 days ahead).
campaign-use-buttons = Please use the buttons above.
campaign-audience-tier = { $tier } tier
campaign-audience-lapsed = Not seen for { $days } days
campaign-audience-all = All members
campaign-cost = Cost if every voucher is used: { $amount }
campaign-cost-approx = Cost if every voucher is used: about { $amount } (from the average bill)
campaign-cost-items = Cost if every voucher is used: { $count } × «{ $item }»
campaign-preview =
    📣 Campaign preview
    Audience: { $audience } — { $members } members
    Sending to { $send }, holding out { $holdout } ({ $pct }%) to compare
    Offer: «{ $offer }», valid until the end of { $until }
    When: { $when } (within the send window and the offer limits)
    { $cost }
campaign-sample-llm = ✍️ Draft for { $name }:
    { $text }
campaign-sample-template = 📝 Template for { $name } (no AI):
    { $text }
campaign-decide = Approve, redraft or cancel?
campaign-approve = ✅ Approve
campaign-redraft = 🔄 Redraft
campaign-cancelled = Campaign cancelled. Nothing was sent.
campaign-approved = ✅ Campaign #{ $id } approved: { $send } members will receive it, { $holdout } are held out to compare. Results: /campaigns { $id }
campaign-error-reward-unknown = That reward no longer exists or is paused.
campaign-error-offer-expired = That offer would expire before it is sent. Please pick another validity.
campaign-error-holdout-range = The holdout must be between 5% and 50%.
campaign-error-audience-empty = No member of this group can receive offers any more. Nothing was sent.
campaign-error-unknown = Campaign not found.

campaigns-none = No campaign has been approved yet. Create one: /campaign
campaigns-title = 📣 Recent campaigns:
campaigns-line = #{ $id } · { $audience } · «{ $offer }» · { $date } · sent to { $members }
campaigns-report-button = Results #{ $id }
campaigns-unknown = Campaign not found. See the list: /campaigns
campaign-report =
    📊 Campaign #{ $id }: { $audience }, «{ $offer }»
    Measured: { $start } – { $end }
    Delivered { $delivered }, not delivered { $failed }, waiting { $waiting }
    Vouchers: { $redeemed }/{ $vouchers } used
    AI drafts: { $calls } calls, { $tokens } tokens, { $fallbacks } template fallbacks, ~{ $cost } USD
campaign-report-arm = { $arm }: { $members } members, { $visited } visited, revenue { $revenue } per member
campaign-arm-sent = Received
campaign-arm-holdout = Held out
campaign-report-difference = Visit rate difference: { $diff } points (95%: { $low } to { $high }), p = { $p }. Revenue per member: { $revenue } (95%: { $rlow } to { $rhigh })
campaign-verdict-too-few = Verdict: not enough members to tell whether the campaign worked.
campaign-verdict-more-visits = Verdict: the campaign brought clearly more visits.
campaign-verdict-fewer-visits = Verdict: members who got the offer visited less than the holdout — worth reviewing the offer.
campaign-verdict-no-clear-difference = Verdict: no clear difference between the groups yet.
campaign-report-interim = (The measuring window is still open: numbers may change.)
segments-campaign-button = 📣 Send this segment a campaign
