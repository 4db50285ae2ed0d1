## Quen — English (second language). Every key here must also be in vi/quen.ftl.

## Joining

join-welcome =
    Welcome to { $shop }'s regulars' club! ☕
    Bạn muốn dùng ngôn ngữ nào? / Which language do you prefer?
join-summary =
    ⭐ { $shop }'s loyalty program
    • Show your member card (a QR code) whenever you buy to collect points.
    • Points turn into rewards and offers; they expire 12 months after you earn them.
    • Earn enough in 12 months to reach Silver, Gold or Platinum and get extra points per purchase.

    To run your card we keep your chat display name, phone number and birthday (if you give them) and your points history, only to run the program.
    If you agree to offers, we send promotions in this chat: at most 2 a week, only between 8:00 and 21:00. You can stop them at any time.
join-consent-offers = Join and get offers
join-consent-basic = Just join
join-decline = No, thanks
join-declined = No problem! Whenever you want to join, just send /start.
join-use-buttons = Please choose with the buttons below.
join-in-progress = You're halfway through joining, let's carry on.
join-ask-phone =
    Sharing your phone number lets staff find your card if you forget your phone.
    Tap the button below to share your own number, or tap “Skip”.
button-share-phone = 📱 Share my phone number
button-skip = Skip
join-phone-use-button = To be sure it's your number, please use the “📱 Share my phone number” button (or “Skip”).
join-phone-not-yours = That isn't your phone number. Please share only your own.
join-phone-invalid = That phone number isn't valid. Try again or tap “Skip”.
join-phone-saved = Phone number saved. ✅
join-phone-taken = That number already belongs to another member card, so we didn't save it. If that's a mistake, please ask the staff at the counter.
join-ask-birthday =
    When is your birthday? Send it as day/month (e.g. 22/11) or day/month/year (22/11/1995) to get a birthday treat 🎂
    Or tap “Skip”.
join-birthday-bad-format = I couldn't read that date. Please send day/month, e.g. 22/11 or 22/11/1995.
join-birthday-bad-date = That date doesn't exist or is in the future. Please check it.
join-done =
    🎉 Welcome to { $shop }'s regulars!
    Here is your member card: show the QR code to staff every time you buy to collect points.

## Card and points

card-tier = Tier: { $tier }
card-caption = 🎫 Member card — { $tier } tier. Show this QR code to staff when you pay.
not-a-member = You're not a member yet. Send /start to join!
points-balance = ⭐ Points: { $points ->
        [one] { $points } point
       *[other] { $points } points
    }
points-tier = 🏅 Tier: { $tier }
points-to-next = { $points ->
        [one] { $points } more point
       *[other] { $points } more points
    } to reach { $tier }.
points-top-tier = You're at the top tier. Thank you! 💛
points-expiring = ⏳ { $points ->
        [one] { $points } point expires
       *[other] { $points } points expire
    } on { $date }.
points-none-expiring = No points expire in the next 30 days.

## Menu, language, help

menu-card = 🎫 My card
menu-points = ⭐ My points
menu-language = 🌐 Language
menu-help = ❓ Help
menu-greeting = Hi { $name }! What can I do for you today? Pick from the menu below.
language-ask = Bạn muốn dùng ngôn ngữ nào? / Which language do you prefer?
language-set = Switched to English.
language-set-guest = Switched to English. Send /start to join the program.
help-guest =
    { $shop }'s regulars' club: collect points on every purchase, get rewards and birthday treats.
    /start — join
    /language — change language
    /help — help
help-member =
    /card — member card (the QR code for collecting points)
    /points — points, tier and points about to expire
    /rewards — turn points into rewards · /vouchers — your vouchers
    /invite — invite a friend, you both get points
    /history — your points history
    /mydata — get a file with all the data we keep about you
    /stop — stop offers (/offers to turn them back on)
    /delete — delete your personal data
    /language — change language
    /help — help
    You can also use the menu buttons below.
unknown-command = I don't know that command. Send /help to see what I can do.
not-understood = I didn't understand that. Use the menu below or send /help.
not-understood-guest = I didn't understand that. Send /start to join or /help for help.
contact-unexpected = Thank you, but I don't need a phone number right now.
button-expired = That button is no longer active. Please send the command again (e.g. /start).

## Telegram's command menu

command-start = Join or open the menu
command-card = Member card
command-points = Points and tier
command-invite = Invite a friend, both get points
command-history = Points history
command-mydata = My data
command-stop = Stop offers
command-delete = Delete my personal data
offers-hint = Want to receive offers? Send /offers.
command-language = Change language
command-help = Help

## For the owner (terminal)

setup-no-token =
    QUEN_TELEGRAM_TOKEN is not set, so the bot is not connected to Telegram (the HTTP server and scheduler are running).
    To get a token: open Telegram, chat with @BotFather, send /newbot, pick a name, then put the token in QUEN_TELEGRAM_TOKEN and run `quen run` again.
    To try the bot now without Telegram: run `quen chat`.
console-intro = You are chatting with the bot as a { $role }. Type a message or a command (/start). Type a number to press a button, /contact <phone number> to share your number, /quit to leave.
console-card-saved = [card saved to { $path }]
error-generic = Sorry, something went wrong while handling that message. Please try again in a few minutes.

## Staff and stores

role-owner = owner
role-customer = customer
role-manager = manager
role-cashier = cashier
command-find = Find a member by phone number
command-undo = Undo the purchase you just recorded
command-staff = Staff: invite, list, remove
command-stores = Stores
help-staff =
    At the till: scan the QR code on the customer's card with your phone camera, then type the bill amount.
    /find 0901234567 — find a member by phone number
    Vouchers: scan the QR on the customer's voucher, or /redeem <10-character code>
    /undo — undo the purchase you just recorded (within a few minutes)
staff-title = 👥 Active staff:
staff-all-stores = all stores
staff-line = • { $name } — { $role } — { $store }
staff-remove-button = ✖ Remove { $name }
staff-invite-button = ➕ Invite a { $role } ({ $store })
staff-invite-link =
    Send this link to the new { $role } (it works once and expires on { $date }):
    { $link }
staff-removed = { $name } is no longer staff. Their access ended now.
staff-you-were-removed = Your staff access at { $shop } has ended. Your member card works as before.
staff-welcome = Welcome to the { $shop } team as { $role }! Send /help to see how to give points at the till.
staff-error-not-allowed = You are not allowed to do that.
staff-error-unknown-store = That store doesn't exist.
staff-error-invite-invalid = That invite link isn't valid. Please ask the owner for a new one.
staff-error-invite-used = That invite link has already been used. Please ask the owner for a new one.
staff-error-invite-expired = That invite link has expired. Please ask the owner for a new one.
staff-error-already-owner = You're already an owner: no invite needed.
staff-error-unknown-staff = That person is no longer staff.
staff-error-store-name = Please give the store a name, e.g. /stores add District 1 branch
stores-title = 🏪 Stores:
stores-line = { $id }. { $name }
stores-none = No stores yet. Add one with: /stores add District 1 branch
stores-added = Store “{ $name }” added.

## At the till

till-member =
    👤 { $name } — { $tier } tier — { $points ->
        [one] { $points } point
       *[other] { $points } points
    }
    Type the bill amount (e.g. 85000, 85k or 85.000):
till-card-unknown = I don't recognise this card (old or invalid). Ask the customer to open /card again and scan it.
till-find-format = Please give a phone number, e.g. /find 0901234567
till-find-none = No member uses that phone number.
till-error-own-account = You can't give points to your own card. Please ask a colleague.
till-error-amount-format = I couldn't read that amount. Type e.g. 85000, 85k or 85.000.
till-error-amount-positive = The amount must be more than 0.
till-error-amount-too-big = That is over the maximum for one bill ({ $max }). Check it or ask the owner.
till-error-member-gone = This member has left the program.
till-error-nothing-to-undo = You have no purchase from the last { $minutes } minutes to undo.
till-confirm = Record { $amount } for { $name }: +{ $points ->
        [one] { $points } point
       *[other] { $points } points
    }. Confirm?
till-confirm-button = ✅ Confirm
till-cancel-button = ✖ Cancel
till-cancelled = Cancelled, nothing recorded.
till-already-recorded = That purchase is already recorded; it won't be recorded twice.
till-recorded = ✅ Recorded { $amount } for { $name }: +{ $points } points. New balance: { $balance } points.
till-undone = ↩️ Undid the { $amount } bill of { $name } and took back { $points } points.
till-undone-shortfall = The customer had already used { $points } of those points, so only the rest was taken back (balances never go negative).
notice-earned = ⭐ You earned +{ $points } points for your { $amount } bill at { $shop }. Balance: { $balance } points.
notice-tier-up = 🎉 Congratulations! You've reached { $tier }.
notice-undone = ↩️ A { $amount } bill was undone by staff (entered by mistake): { $points } points taken back. Balance: { $balance } points.
alert-many-purchases = ⚠️ { $name } has { $count } bills today (the latest recorded by { $cashier }). Please have a look.

## Referrals

invite-link =
    💌 Send this link to friends. When one joins and makes a first purchase, you get { $points } points and they get { $friend_points }:
    { $link }
invite-already-member = You're already a member, so this invite link doesn't apply to you.
notice-referral-friend = 🎁 Welcome gift for joining through a friend: +{ $points } points.
notice-referral-referrer = 🎁 { $name }, the friend you invited, just made a first purchase: +{ $points } points for you. Thank you!

## Program rules (owner)

command-settings = Rules: earn rate, expiry, tiers
command-adjust = Adjust points by hand
settings-summary =
    ⚙️ Current rules:
    • Earning: 1 point per { $earn } (times the tier multiplier)
    • Points expire { $months } months after they are earned
    • Largest bill: { $maxbill }
    • Alert when one member has more than { $alert } bills a day
    • Referrals: +{ $referrer } points for the referrer, +{ $friend } for the new member
settings-tier = • { $tier } ({ $code }): from { $threshold } points in 12 months, multiplier { $multiplier }%
settings-help =
    Change a rule (applies from now on):
    /settings earn 1000 — đồng per point
    /settings expiry 12 — months before points expire
    /settings maxbill 5000000 — largest bill
    /settings alert 3 — bills a day before an alert
    /settings referral 200 200 — referral points (referrer, new member)
    /settings tier gold 10000 125 — a tier's threshold and multiplier %
settings-changed = ✅ Saved. The new rule applies from now on.
settings-error-unknown = There is no such rule. Send /settings to see them.
settings-error-format = That value isn't right. Send /settings for examples.
settings-error-expiry-range = Points must last between 1 and 60 months.
settings-error-tier-unknown = There is no such tier. Use the codes: member, silver, gold, platinum.
settings-error-multiplier-range = The multiplier must be between 100% and 500%.
settings-error-tier-lowest = The lowest tier always starts at 0 points.
settings-error-tier-clash = Another tier already uses that threshold.
adjust-format = Usage: /adjust <phone> <+/-points> <reason>, e.g. /adjust 0901234567 +50 forgot to scan yesterday
adjust-too-much = Can't take more than the current balance ({ $balance } points). Nothing changed.
adjust-done = ✅ Adjusted { $points } points for { $name }. New balance: { $balance } points.

## Items (for cashiers to tick)

command-menu = Item list
menu-title = 🍵 Items (cashiers tick them when recording a bill):
menu-empty = No items yet. Add one with: /menu add Iced milk coffee
menu-help = Add: /menu add <name> · Remove: /menu remove <number>
menu-added = Added “{ $name }”.
menu-removed = Removed “{ $name }” (past bills keep it).
menu-error-name = Please give the item a name, e.g. /menu add Bạc xỉu
menu-error-full = The list already has { $max } items. Remove one first.
menu-error-unknown = There is no item with that number.

## One person, two apps: joining a new chat account to an existing member card.

join-link-ask =
    This phone number belongs to a member who joined on another app. Is that you?
    If so, both apps will share one card: the same points, tier and vouchers.
join-link-yes = Yes, it's me: share the card
join-link-no = No, it's not me
join-linked = ✅ Linked: from now on you use one member card on both apps.
notice-linked = 🔗 Your member card was just linked to a { $app ->
        [zalo] Zalo
        [telegram] Telegram
       *[other] chat
    } account with the same phone number. If that wasn't you, please tell the staff at the counter right away.
