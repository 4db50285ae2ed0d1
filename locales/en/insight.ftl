## Knowing the customers: /stats, /segments, /customer, /export (owners).

command-stats = Figures: members, revenue, repeat rate
command-segments = Customer segments (RFM) and what to do
command-customer = One member's profile by phone
command-export = Export members (CSV)

stats-all-stores = all stores
stats-help = Use /stats [7|30|90|365] [store number from /stores], for example /stats 30 or /stats 7 2.
stats-summary =
    📊 The last { $days } days · { $store }
    Members: { $members } (new: { $new }, bought: { $active })
    Bills: { $purchases } · Revenue: { $revenue } · Average: { $aov }
    Customers back within 30 days: { $repeat }
    Vouchers used / issued: { $redemption }
    Customers lost (30 days): { $churn }
    Unused points: { $points } (≈ { $liability })
chart-title = The last { $days } days
chart-visits = Bills
chart-revenue = Revenue
chart-segments = Members by segment
chart-cohorts = Retention by month of first purchase
chart-months-since = Months after the first purchase
chart-million = M
chart-no-data = No data yet

segments-none-yet = No analysis yet. It runs every night at 02:00 (or now with quen analyze on the server).
segments-title = 👥 Customer segments (analysis of { $date })
segments-line = • { $segment }: { $count } — { $about } 👉 { $todo }
segments-members = A few members in { $segment }:
segments-member = • { $name } ({ $phone }): { $visits } visits, { $spend }, last { $last }

segment-champions = Champions
segment-champions-about = bought recently and often.
segment-champions-todo = Thank them, offer new items, no needless discounts.
segment-loyal = Loyal
segment-loyal-about = buy often, not long ago.
segment-loyal-todo = Tier perks, ask them to invite friends.
segment-potential = Potential loyalists
segment-potential-about = came back a few times lately.
segment-potential-todo = Remind them of points towards the next tier.
segment-new = New
segment-new-about = just made a first purchase.
segment-new-todo = Welcome them, give a reason for a second visit.
segment-promising = Promising
segment-promising-about = one purchase, not long ago.
segment-promising-todo = An offer for the second visit.
segment-attention = Need attention
segment-attention-about = regular, but coming less.
segment-attention-todo = A time-limited offer to bring them back.
segment-sleeping = About to sleep
segment-sleeping-about = few purchases, a while ago.
segment-sleeping-todo = A gentle reminder with their favourite.
segment-at-risk = At risk
segment-at-risk-about = bought a lot, but not for a long time.
segment-at-risk-todo = An attractive "we miss you" voucher.
segment-cant-lose = Can't lose them
segment-cant-lose-about = used to be champions, gone for long.
segment-cant-lose-todo = Reach out personally, a strong offer.
segment-hibernating = Hibernating
segment-hibernating-about = few purchases, long ago.
segment-hibernating-todo = Only big offers.
segment-lost = Lost
segment-lost-about = one or two visits, very long ago.
segment-lost-todo = Spend nothing; try again on a big occasion.

customer-not-found = No member with this phone number.
customer-not-analysed = { $name } is not in the latest analysis yet (it runs every night).
customer-profile =
    👤 { $name } — { $tier } tier — { $points } points
    Bought { $visits } times, { $spend } in total (average { $average })
    Usually orders: { $favourites }
    Usually comes: { $weekday }, around { $hour }
    Segment: { $segment } · Chance they are still a customer: { $alive } · Value in the next 12 months: { $value }
weekday-0 = Monday
weekday-1 = Tuesday
weekday-2 = Wednesday
weekday-3 = Thursday
weekday-4 = Friday
weekday-5 = Saturday
weekday-6 = Sunday

export-done = 📄 { $count } members with their scores (CSV, opens in Excel or Google Sheets).
